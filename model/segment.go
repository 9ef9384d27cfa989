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
	FieldType             = "type"
	FieldTag              = "tag"
	FieldCity             = "city"
	FieldPostcode         = "postcode"
	FieldCountry          = "country"
	FieldAge              = "age"
	FieldPurchaseCount    = "purchase_count"
	FieldRevenue          = "revenue"
	FieldLastPurchaseDays = "last_purchase_days"
	FieldLastActivityDays = "last_activity_days"
	FieldRFMSegment       = "rfm_segment"
	FieldCLV              = "clv"
	FieldAttributePrefix  = "attribute."
	FieldPreferencePrefix = "preference."
)
