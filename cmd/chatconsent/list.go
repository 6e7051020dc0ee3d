package main

import (
	"io"
	"time"

	"github.com/chatconsent/chatconsent/internal/records"
)

func runList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("list", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
	since := fs.String("since", "", "only events from this `date` on (2026-01-31, Europe/Berlin, or RFC 3339)")
	format := fs.String("format", "table", "output `format`: table, csv, csv-excel (for Excel/LibreOffice in German: BOM, ';') or json")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	var from time.Time
	if *since != "" {
		t, err := records.ParseSince(*since)
		if err != nil {
			return usageError("list: --since: %v", err)
		}
		from = t
	}
	write := map[string]func(io.Writer, []records.Row) error{
		"table": records.WriteTable, "csv": records.WriteCSV, "csv-excel": records.WriteCSVExcel, "json": records.WriteJSON,
	}[*format]
	if write == nil {
		return usageError("list: --format %q: want table, csv, csv-excel or json", *format)
	}
	o, err := openRecords(*cfgPath, *data, false)
	if err != nil {
		return err
	}
	return write(stdout, o.book.Rows(from))
}
