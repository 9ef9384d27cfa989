package main

import (
	"flag"
	"fmt"

	"karton/model"
	"karton/store"
)

func channelListCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		var chs []model.Channel
		if err := st.View(e.actor, func(r *store.Reader) (err error) { chs, err = r.Channels(); return }); err != nil {
			return err
		}
		if *asJSON {
			type row struct {
				ID             uint64            `json:"id"`
				Name           string            `json:"name"`
				Kind           string            `json:"kind"`
				Software       string            `json:"software"`
				Connector      string            `json:"connector"`
				Settings       map[string]string `json:"settings,omitempty"`
				CostPerContact int64             `json:"cost_per_contact"`
				Currency       string            `json:"currency"`
				Status         string            `json:"status"`
			}
			out := make([]row, 0, len(chs))
			for _, c := range chs {
				out = append(out, row{uint64(c.ID), c.Name, string(c.Kind), c.Software, string(c.Connector.Kind), redactSettings(c.Connector.Settings), int64(c.CostPerContact), c.Currency, string(c.Status)})
			}
			return printJSON(e.stdout, out)
		}
		rows := make([][]string, 0, len(chs))
		for _, c := range chs {
			rows = append(rows, []string{c.ID.String(), c.Name, string(c.Kind), c.Software, string(c.Connector.Kind), c.CostPerContact.Format(c.Currency), string(c.Status)})
		}
		return table(e.stdout, []string{"ID", "NAME", "KIND", "SOFTWARE", "CONNECTOR", "COST/CONTACT", "STATUS"}, rows)
	}
}

// redactSettings hides secrets in connector settings.
func redactSettings(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k == "secret" || k == "password" {
			v = "(set)"
		}
		out[k] = v
	}
	return out
}

func purposeListCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		var ps []model.Purpose
		if err := st.View(e.actor, func(r *store.Reader) (err error) { ps, err = r.Purposes(); return }); err != nil {
			return err
		}
		if *asJSON {
			type row struct {
				ID                 uint64 `json:"id"`
				Name               string `json:"name"`
				Title              string `json:"title"`
				Category           string `json:"category"`
				OwnSimilarProducts bool   `json:"own_similar_products"`
			}
			out := make([]row, 0, len(ps))
			for _, p := range ps {
				out = append(out, row{uint64(p.ID), p.Name, p.Title, string(p.Category), p.OwnSimilarProducts})
			}
			return printJSON(e.stdout, out)
		}
		rows := make([][]string, 0, len(ps))
		for _, p := range ps {
			own := ""
			if p.OwnSimilarProducts {
				own = "yes"
			}
			rows = append(rows, []string{p.ID.String(), p.Name, p.Title, string(p.Category), own})
		}
		return table(e.stdout, []string{"ID", "NAME", "TITLE", "CATEGORY", "OWN SIMILAR PRODUCTS"}, rows)
	}
}

func purposeAddCmd(fs *flag.FlagSet) runFunc {
	title := fs.String("title", "", "human label")
	category := fs.String("category", "", "service, marketing or profiling")
	own := fs.Bool("own-similar-products", false, "advertising for the company's own similar products (UWG §7(3))")
	desc := fs.String("description", "", "what the purpose covers")
	return func(e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give one purpose name (a slug like newsletter)")
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		p := model.Purpose{Name: args[0], Title: *title, Category: model.PurposeCategory(*category), OwnSimilarProducts: *own, Description: *desc}
		if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.InsertPurpose(&p) }); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added purpose %s (%s, id %d)\n", p.Name, p.Category, p.ID)
		return nil
	}
}

func channelAddCmd(fs *flag.FlagSet) runFunc {
	kind := fs.String("kind", "", "email, sms, messenger, phone, postal, web, social or event")
	software := fs.String("software", "", "the system that serves the channel")
	connector := fs.String("connector", "dry", "file, webhook, smtp or dry")
	settings := keyValueFlag{}
	fs.Var(settings, "setting", "connector setting key=value (repeat), e.g. dir=outbox/print")
	cost := fs.String("cost", "0", "cost per contact, e.g. 0.85")
	return func(e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give the channel's name")
		}
		k, err := model.ParseChannelKind(*kind)
		if err != nil {
			return usagef("--kind: %v", err)
		}
		c, err := model.ParseMoney(*cost)
		if err != nil {
			return usagef("--cost: %v", err)
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		ch := model.Channel{Name: args[0], Kind: k, Software: *software, Connector: model.Connector{Kind: model.ConnectorKind(*connector), Settings: settings}, CostPerContact: c}
		if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.InsertChannel(&ch) }); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added channel %s (%s, id %d)\n", ch.Name, ch.Kind, ch.ID)
		return nil
	}
}
