package receipt

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"sync"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// attach embeds data as the file id (PDF 32000 7.11.4) with the
// description desc: what pdfcpu's Context.AddAttachment writes, byte for
// byte (an EmbeddedFile stream deflated at zlib's default level, its
// Params, the file specification in the EmbeddedFiles name tree), but
// deflated by a reused writer. A new zlib writer per attachment (pdfcpu's
// way) allocates and clears about 1 MB of compressor state, which
// measured a tenth of a receipt's time.
func attach(ctx *model.Context, id, desc string, data []byte, modTime time.Time) error {
	xt := ctx.XRefTable
	if err := xt.LocateNameTree("EmbeddedFiles", true); err != nil {
		return fmt.Errorf("EmbeddedFiles name tree: locate: %w", err)
	}
	raw, err := deflateWith(&defaultDeflaters, data)
	if err != nil {
		return fmt.Errorf("attachment %q: %w", id, err)
	}
	sd := types.StreamDict{Dict: types.NewDict(), Content: data,
		FilterPipeline: []types.PDFFilter{{Name: filter.Flate, DecodeParms: nil}}}
	sd.InsertName("Filter", filter.Flate)
	sd.InsertName("Type", "EmbeddedFile")
	params := types.NewDict()
	params.InsertInt("Size", len(data))
	params.Insert("ModDate", types.StringLiteral(types.DateString(modTime)))
	sd.Insert("Params", params)
	n := int64(len(raw))
	sd.Raw, sd.StreamLength = raw, &n
	sd.Update("Length", types.Integer(n))
	file, err := xt.IndRefForNewObject(sd)
	if err != nil {
		return fmt.Errorf("attachment %q: %w", id, err)
	}
	d, err := xt.NewFileSpecDict(id, id, desc, *file)
	if err != nil {
		return fmt.Errorf("attachment %q: file spec: %w", id, err)
	}
	ref, err := xt.IndRefForNewObject(d)
	if err != nil {
		return fmt.Errorf("attachment %q file spec: add object: %w", id, err)
	}
	if err := xt.Names["EmbeddedFiles"].Add(xt, id, *ref, model.NameMap{id: []types.Dict{d}}, []string{"F", "UF"}); err != nil {
		return fmt.Errorf("EmbeddedFiles name tree: add attachment %q: %w", id, err)
	}
	return nil
}

// Reused zlib writers: at the default level (attachments, as pdfcpu
// deflates them) and at BestSpeed (a CIDToGIDMap, mostly zeros). A new
// writer costs more (its state, allocated and cleared) than compressing
// a few kilobytes.
var (
	defaultDeflaters = sync.Pool{New: func() any { return zlib.NewWriter(nil) }}
	fastDeflaters    = sync.Pool{New: func() any {
		w, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed)
		return w
	}}
)

// deflateWith returns b compressed in the zlib format (FlateDecode, PDF
// 32000 7.4.4) by a writer from pool.
func deflateWith(pool *sync.Pool, b []byte) ([]byte, error) {
	var out bytes.Buffer
	w := pool.Get().(*zlib.Writer)
	defer pool.Put(w)
	w.Reset(&out)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
