package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"karton/model"
	"karton/store/links"
)

// Return-channel links in messages. Every message the dispatcher hands to
// a connector carries the links of package links, made with the store's
// own key (DeriveKey(links.KeyLabel)), so that `karton serve --http` or
// `karton http` on the same store can read them:
//
//   - an unsubscribe link BASE/u/{token} (Message.UnsubscribeURL: the smtp
//     connector's List-Unsubscribe and List-Unsubscribe-Post headers, a
//     column of the file connector, a field of the webhook body, and the
//     creative's {{unsubscribe_url}});
//   - click links BASE/c/{token} in place of each of the creative's
//     registered link targets (model.Creative.Links) in the body. URLs the
//     creative does not register stay as they are: only registered targets
//     can be redirected to.
//
// BASE, the public address of the return channel, is looked up in this
// order: the channel's connector setting unsubscribe_base (a brand's own
// domain proxied to the same listener), the base given to the dispatcher
// (DispatcherOptions.LinkBase: `karton dispatch --base`, `karton serve`),
// and the store's remembered base (MetaLinkBase, set by `karton serve
// --base`, `karton http --base`, SetLinkBase). Without any, messages go
// out without links; a creative that uses {{unsubscribe_url}} then cannot
// be rendered and its message ends as a dead letter that says so. A dry
// channel without a base uses a stand-in (dryLinkBase) so that its
// creatives render as a real run's would.

// MetaLinkBase is the meta key (see Store.Meta) of the store's remembered
// public base URL for return-channel links.
const MetaLinkBase = "http.base"

// dryLinkBase stands in for a dry channel's link base: a dry run sends
// nothing, but its creatives should render as a real run's would.
// ".invalid" (RFC 2606) can never resolve.
const dryLinkBase = "https://unsubscribe.karton.invalid"

// LinkBase returns the store's remembered public base URL for links, ""
// when none was set.
func (s *Store) LinkBase() (string, error) { return s.Meta(MetaLinkBase) }

// SetLinkBase remembers the public base URL of the return channel (an
// absolute http(s) URL, e.g. https://k.example.com; a path prefix is
// kept), which the dispatcher puts into every message's links. An empty
// base forgets it. Changing it is a setting (admin), and audited.
func (t *Tx) SetLinkBase(base string) error {
	if err := t.require(model.PermAdminister, "set the public base URL of links"); err != nil {
		return err
	}
	if strings.TrimSpace(base) != "" {
		b, err := links.NormalizeBase(base)
		if err != nil {
			return &model.ValidationError{Entity: "settings", Fields: []model.FieldError{{Field: "base", Reason: err.Error()}}}
		}
		base = b
	} else {
		base = ""
	}
	if old := string(t.tx.Bucket(bMeta).Get([]byte("app." + MetaLinkBase))); old == base {
		return nil
	}
	if err := t.SetMeta(MetaLinkBase, base); err != nil {
		return err
	}
	return t.Audit("settings.link_base", "settings", []byte(base))
}

// linkMaker builds the links of one step's messages.
type linkMaker struct {
	base   string // normalised; "" when the messages get no links
	err    error  // the configured base is unusable
	signer *links.Signer
	// targets are the creative's registered link targets that can be
	// tracked, longest first so that a longer URL wins over its prefix.
	targets []linkTarget
}

type linkTarget struct {
	index int
	url   string
}

// storedLinkBase is the store's remembered link base ("" when none).
func (r *Reader) storedLinkBase() string {
	return string(r.tx.Bucket(bMeta).Get([]byte("app." + MetaLinkBase)))
}

// setLinkBase chooses the plan's link base: the channel's own setting
// wins; otherwise the first of bases that is set (the store's remembered
// base, then the dispatcher's fallback); a dry channel falls back to a
// stand-in.
func (p *launchPlan) setLinkBase(s *Store, bases ...string) {
	lm := &linkMaker{}
	p.links = lm
	raw := strings.TrimSpace(p.channel.Connector.Settings["unsubscribe_base"])
	from := fmt.Sprintf("channel %q setting unsubscribe_base", p.channel.Name)
	for _, b := range bases {
		if raw != "" {
			break
		}
		raw, from = strings.TrimSpace(b), "the link base"
	}
	if raw == "" && p.channel.Connector.Kind == model.ConnectorDry {
		raw = dryLinkBase
	}
	if raw == "" {
		return
	}
	if lm.base, lm.err = links.NormalizeBase(raw); lm.err != nil {
		lm.base, lm.err = "", fmt.Errorf("%s: %w", from, lm.err)
		return
	}
	if lm.signer, lm.err = links.NewSigner(s.DeriveKey(links.KeyLabel)); lm.err != nil {
		lm.base = ""
		return
	}
	if p.creative != nil {
		for i, u := range p.creative.Links {
			if links.ValidateTarget(u) == nil {
				lm.targets = append(lm.targets, linkTarget{i, u})
			}
		}
		slices.SortStableFunc(lm.targets, func(a, b linkTarget) int { return len(b.url) - len(a.url) })
	}
}

// linkMessage names message id of the plan for its tokens.
func (p *launchPlan) linkMessage(cid model.CustomerID, id OutboxID) links.Message {
	return links.Message{Customer: cid, Channel: p.channel.Kind, Purpose: p.purpose.ID, Step: p.step.ID, ID: uint64(id)}
}

// unsubscribeURL is the one-click unsubscribe link of a message, "" when
// the plan has no link base.
func (p *launchPlan) unsubscribeURL(cid model.CustomerID, id OutboxID) (string, error) {
	switch lm := p.links; {
	case lm == nil:
		return "", nil
	case lm.err != nil:
		return "", lm.err
	case lm.base == "":
		return "", nil
	default:
		return links.Unsubscribe(lm.base, lm.signer, p.linkMessage(cid, id))
	}
}

// sampleUnsubscribeURL stands in for a message's unsubscribe link where no
// message exists yet (the launch's check that a creative can be filled
// in, previews). Without a link base it is the dry stand-in: the base may
// still be set before the dispatch (`karton serve --http`), which is where
// a message without one fails (errNoLinkBase).
func (p *launchPlan) sampleUnsubscribeURL() string {
	if p.links == nil || p.links.base == "" {
		return dryLinkBase + links.PathUnsubscribe + "sample"
	}
	return p.links.base + links.PathUnsubscribe + "sample"
}

// explainMissingLink adds what to do to a render error caused by a missing
// unsubscribe link.
func (p *launchPlan) explainMissingLink(err error) error {
	var missing *model.MissingFieldError
	if p.links == nil || p.links.base != "" || !errors.As(err, &missing) || !slices.Contains(missing.Fields, model.FieldUnsubscribeURL) {
		return err
	}
	return fmt.Errorf("%w; no public address of the return channel is set for the link: run `karton serve --http ADDR --base URL` "+
		"(or `karton dispatch --base URL`), or set the channel's unsubscribe_base, then `karton outbox retry --all`", err)
}

// trackClicks replaces each registered link target in body by the
// message's click link for it. A target counts only where it stands as a
// whole URL: followed by the end, a space, a quote or bracket, or a
// sentence's punctuation and then a space or the end — so that
// https://x.de/sale does not replace the start of https://x.de/sale-2.
func (p *launchPlan) trackClicks(body string, cid model.CustomerID, id OutboxID) (string, error) {
	lm := p.links
	if lm == nil || lm.base == "" || len(lm.targets) == 0 {
		return body, nil
	}
	var b strings.Builder
	made := map[int]string{}
	i, last := 0, 0
	for i < len(body) {
		j := strings.Index(body[i:], "http")
		if j < 0 {
			break
		}
		i += j
		matched := false
		for _, t := range lm.targets {
			if !strings.HasPrefix(body[i:], t.url) || !urlEnds(body, i+len(t.url)) {
				continue
			}
			href, ok := made[t.index]
			if !ok {
				var err error
				if href, err = links.Click(lm.base, lm.signer, p.linkMessage(cid, id), t.index, t.url); err != nil {
					return "", err
				}
				made[t.index] = href
			}
			b.WriteString(body[last:i])
			b.WriteString(href)
			i += len(t.url)
			last, matched = i, true
			break
		}
		if !matched {
			i += len("http")
		}
	}
	if last == 0 {
		return body, nil
	}
	b.WriteString(body[last:])
	return b.String(), nil
}

// urlEnds reports whether a URL that ends at body[at] stands whole.
func urlEnds(body string, at int) bool {
	if at >= len(body) {
		return true
	}
	switch c := body[at]; c {
	case ' ', '\t', '\r', '\n', '"', '\'', '<', '>', ')', ']':
		return true
	case '.', ',', ';', ':', '!', '?':
		return at+1 >= len(body) || strings.ContainsRune(" \t\r\n\"'<>)]", rune(body[at+1]))
	}
	return false
}
