package main

import "io"

func runStatus(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := dataFlag(fs)
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("status: want one NUMBER")
	}
	o, err := openRecords(*cfgPath, *data, false)
	if err != nil {
		return err
	}
	p, err := o.person(fs.Arg(0), false)
	if err != nil {
		return err
	}
	return o.book.WriteStatus(stdout, p, o.manifest)
}
