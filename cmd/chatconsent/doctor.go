package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/chatconsent/chatconsent/internal/doctor"
)

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("doctor", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := dataFlag(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	rs := doctor.Run(ctx, doctor.Options{ConfigPath: *cfgPath, DataDir: *data})
	fails, warns := 0, 0
	for _, r := range rs {
		fmt.Fprintf(stdout, "%-4s  %-21s %s\n", r.Status, r.Check, r.Detail)
		if r.Fix != "" {
			fmt.Fprintf(stdout, "      %-21s fix: %s\n", "", r.Fix)
		}
		switch r.Status {
		case doctor.Fail:
			fails++
		case doctor.Warn:
			warns++
		}
	}
	if fails > 0 {
		return fmt.Errorf("doctor: %d %s to fix, %d %s", fails, plural(fails, "problem"), warns, plural(warns, "warning"))
	}
	fmt.Fprintf(stdout, "doctor: nothing to fix, %d %s\n", warns, plural(warns, "warning"))
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return strings.TrimSuffix(word, "s") + "s"
}
