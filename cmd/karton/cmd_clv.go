package main

import (
	"flag"
	"fmt"

	"karton/model"
	"karton/store"
)

func clvFitCmd(fs *flag.FlagSet) runFunc {
	calEnd := fs.String("calibration-end", "", "last day of the calibration period, YYYY-MM-DD (default: today)")
	unit := fs.String("unit", "week", "time unit of the models: week or day")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		end, err := parseDateFlag("calibration-end", *calEnd)
		if err != nil {
			return err
		}
		var u model.TimeUnit
		switch *unit {
		case "week", "weeks":
			u = model.UnitWeek
		case "day", "days":
			u = model.UnitDay
		default:
			return usagef("--unit %q: use week or day", *unit)
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		ctx, stop := e.interruptible()
		defer stop()
		fit, err := st.FitCLV(ctx, e.actor, store.CLVFitOptions{CalibrationEnd: end, Unit: u})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, fit)
		}
		fmt.Fprintf(e.stdout, "calibration up to %s, in %ss: %d customers, %d with repeat purchases (%d repeat purchases)\n\n",
			fit.CalibrationEnd, fit.Unit, fit.Customers, fit.RepeatBuyers, fit.RepeatPurchases)
		fmt.Fprintf(e.stdout, "BG/NBD       r = %.4f  alpha = %.4f  a = %.4f  b = %.4f  log-likelihood = %.2f\n", fit.R, fit.Alpha, fit.A, fit.B, fit.LogLikelihood)
		if fit.GammaGammaError != "" {
			fmt.Fprintf(e.stdout, "Gamma-Gamma  not fitted: %s\n", fit.GammaGammaError)
		} else {
			fmt.Fprintf(e.stdout, "Gamma-Gamma  p = %.4f  q = %.4f  gamma = %.4f  log-likelihood = %.2f  (%d customers, mean spend %.2f %s)\n",
				fit.P, fit.Q, fit.Gamma, fit.GammaGammaLogLikelihood, fit.GammaGammaCustomers, fit.MeanSpend, st.Settings().Currency)
		}
		fmt.Fprintf(e.stdout, "\nfitted in %s; score customers with `karton clv score`\n", fit.Elapsed)
		return nil
	}
}

func clvScoreCmd(fs *flag.FlagSet) runFunc {
	asOf := fs.String("as-of", "", "count purchases up to this day, YYYY-MM-DD (default: today)")
	weeks := fs.Int("weeks", 52, "horizon of the expected purchases, in weeks")
	months := fs.Int("months", 12, "horizon of the customer lifetime value, in months")
	discount := fs.Float64("discount", 0.10, "annual discount rate of the value (0.10 = 10 %; 0 for none)")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		d, err := parseDateFlag("as-of", *asOf)
		if err != nil {
			return err
		}
		if *weeks < 1 || *weeks > 520 || *months < 1 || *months > 120 {
			return usagef("--weeks must be 1–520 and --months 1–120")
		}
		if *discount < 0 || *discount > 1 {
			return usagef("--discount %g: give an annual rate between 0 and 1", *discount)
		}
		rateArg := *discount
		if rateArg == 0 {
			rateArg = -1 // none (0 would mean the default)
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		ctx, stop := e.interruptible()
		defer stop()
		sum, err := st.ScoreCLV(ctx, e.actor, store.CLVScoreOptions{AsOf: d, Weeks: *weeks, Months: *months, AnnualDiscount: rateArg})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, sum)
		}
		cur := st.Settings().Currency
		fmt.Fprintf(e.stdout, "CLV as of %s over %d months at %.1f%% a year: %d customers scored", sum.AsOf, sum.Months, 100*sum.AnnualDiscount, sum.Scored)
		if sum.Failed > 0 {
			fmt.Fprintf(e.stdout, " (%d could not be)", sum.Failed)
		}
		fmt.Fprintf(e.stdout, "\ntotal %s, mean %s, median %s, top decile from %s; mean P(alive) %.2f; %.0f purchases expected in %d weeks\n\n",
			sum.Total.Format(cur), sum.Mean.Format(cur), sum.Median.Format(cur), sum.P90.Format(cur), sum.MeanPAlive, sum.ExpectedTotal, sum.Weeks)
		rows := make([][]string, 0, len(sum.Histogram))
		for _, b := range sum.Histogram {
			to := "…"
			if b.To != 0 {
				to = b.To.FormatShort(cur)
			}
			rows = append(rows, []string{b.From.FormatShort(cur) + " – " + to, fmt.Sprint(b.Customers)})
		}
		return table(e.stdout, []string{"CLV", "CUSTOMERS"}, rows)
	}
}
