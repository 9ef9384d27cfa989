package model

// Segment condition fields. A segment's conditions (all must hold) use
// these field names; the audience evaluator implements exactly this set.
//
//	field                value                           operators
//	type                 consumer | business             = !=
//	tag                  a tag                           has, !has
//	city                 a city (folded compare)         = != in
//	postcode             a postcode prefix               prefix
//	country              ISO code                        = != in
//	age                  years                           < <= > >= = (unknown age never matches)
//	purchase_count       number                          < <= > >= =
//	revenue              money in minor units            < <= > >= =
//	last_purchase_days   days since last purchase        < <= > >= (no purchase never matches)
//	last_activity_days   days since last activity        < <= > >=
//	attribute.NAME       text                            = != in prefix
//	preference.NAME      text                            = != in
//	rfm_segment          an RFM segment name             = != in
//	clv                  expected value, minor units     < <= > >=
//
// "in" takes a comma-separated list.
const (
	CondType             = "type"
	CondTag              = "tag"
	CondCity             = "city"
	CondPostcode         = "postcode"
	CondCountry          = "country"
	CondAge              = "age"
	CondPurchaseCount    = "purchase_count"
	CondRevenue          = "revenue"
	CondLastPurchaseDays = "last_purchase_days"
	CondLastActivityDays = "last_activity_days"
	CondRFMSegment       = "rfm_segment"
	CondCLV              = "clv"
	CondAttributePrefix  = "attribute."
	CondPreferencePrefix = "preference."
)
