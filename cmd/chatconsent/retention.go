package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/internal/records"
)

// runRetention lists who is due for erasure under retention.proof_years
// and when; --apply erases those due now (as chatconsent erase does, with
// reason "retention").
func runRetention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("retention", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
	apply := fs.Bool("apply", false, "erase now everyone who is due")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	o, err := openRecords(*cfgPath, *data, false)
	if err != nil {
		return err
	}
	years := o.cfg.Retention.ProofYears
	now := time.Now()
	all := o.book.Retention(years, time.Time{})
	fmt.Fprintf(stdout, "retention: %s after the end of the year of a person's last event; a grant in force is never due (retention.proof_years, §§ 195, 199 BGB)\n", count(uint64(years), "year"))
	if len(all) == 0 {
		fmt.Fprintln(stdout, "nobody is due: everyone has a grant in force, or there is nobody")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tNAME\tLAST EVENT (Berlin)\tDUE ON\t")
	var dueNow []records.Due
	for _, d := range all {
		mark := ""
		if !now.Before(d.At) {
			mark = "due now"
			dueNow = append(dueNow, d)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Person.Phone, d.Person.Name, d.Last.In(records.Berlin()).Format("2006-01-02"), d.At.Format("2006-01-02"), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !*apply {
		if len(dueNow) > 0 {
			fmt.Fprintf(stdout, "%s due now; erase with: chatconsent retention --apply (the collector does it daily with retention.auto = true)\n", count(uint64(len(dueNow)), "person", "people"))
		}
		return nil
	}
	// One pass in the collector (or here): the private store is rewritten
	// once for everyone due, not once per person.
	res, _, err := ownerOp(ctx, "retention", o.cfg, o.paths, stderr, collector.OwnerRetention{}, (*collector.OwnerClient).Retention, (*collector.Server).RetentionNow)
	if err != nil {
		return fmt.Errorf("retention: %w (erasures recorded before the error stay; run it again)", err)
	}
	for _, e := range res.Erased {
		fmt.Fprintf(stdout, "erased %s (erasure record %s)\n", e.Phone, e.ID)
	}
	fmt.Fprintf(stdout, "%s erased\n", count(uint64(len(res.Erased)), "person", "people"))
	return nil
}
