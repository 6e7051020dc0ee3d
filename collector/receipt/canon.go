package receipt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// canonical turns a PDF as pdfcpu wrote it into a reproducible one. pdfcpu
// alone cannot give the same bytes for the same input:
//
//   - it writes objects in the order it walks dictionaries, which is Go's
//     random map order;
//   - it sets the Info dictionary's Producer to "pdfcpu vX", and its
//     CreationDate and ModDate to the current time;
//   - it derives the file identifier (trailer /ID) from the current time.
//
// canonical therefore cuts the file into its objects (pdfcpu reports where
// it wrote each one in offsets; with a classic cross-reference table and no
// object streams every object stands alone), puts them in object-number
// order, replaces the Info object by info, rewrites the cross-reference
// table with the new offsets and sets the file identifier to a hash of the
// result. The bytes of every other object stay exactly as pdfcpu wrote them.
func canonical(pdf []byte, offsets map[int]int64, infoNr int, info types.Dict) ([]byte, error) {
	sx := bytes.LastIndex(pdf, []byte("startxref"))
	if sx < 0 {
		return nil, errors.New("no startxref")
	}
	fields := bytes.Fields(pdf[sx+len("startxref"):])
	if len(fields) < 2 || string(fields[1]) != "%%EOF" {
		return nil, errors.New("malformed end of file")
	}
	xrefAt, err := strconv.ParseInt(string(fields[0]), 10, 64)
	if err != nil || xrefAt <= 0 || xrefAt >= int64(sx) || !bytes.HasPrefix(pdf[xrefAt:], []byte("xref")) {
		return nil, fmt.Errorf("no cross-reference table at startxref %q (object streams or xref stream enabled?)", fields[0])
	}
	trailerAt := bytes.Index(pdf[xrefAt:], []byte("trailer"))
	if trailerAt < 0 {
		return nil, errors.New("no trailer")
	}
	trailerAt += int(xrefAt)

	// The objects, by file position.
	nrs := make([]int, 0, len(offsets))
	for nr := range offsets {
		nrs = append(nrs, nr)
	}
	slices.SortFunc(nrs, func(a, b int) int { return int(offsets[a] - offsets[b]) })
	if len(nrs) == 0 {
		return nil, errors.New("no objects written")
	}
	chunks := make(map[int][]byte, len(nrs))
	for i, nr := range nrs {
		start, end := offsets[nr], xrefAt
		if i+1 < len(nrs) {
			end = offsets[nrs[i+1]]
		}
		if start <= 0 || start >= end || end > xrefAt {
			return nil, fmt.Errorf("object %d: offset %d out of order", nr, start)
		}
		c := pdf[start:end]
		head := []byte(strconv.Itoa(nr) + " ")
		if !bytes.HasPrefix(c, head) || !bytes.Contains(c[:min(len(c), 32)], []byte(" obj")) {
			return nil, fmt.Errorf("object %d: no object header at offset %d", nr, start)
		}
		chunks[nr] = c
	}
	if _, ok := chunks[infoNr]; !ok {
		return nil, fmt.Errorf("info object %d was not written", infoNr)
	}

	var body bytes.Buffer
	body.Grow(len(pdf) + 1024)        // the same objects, and the Info dictionary
	body.Write(pdf[:offsets[nrs[0]]]) // header and binary comment
	slices.Sort(nrs)
	newOff := make(map[int]int64, len(nrs))
	for _, nr := range nrs {
		newOff[nr] = int64(body.Len())
		if nr == infoNr {
			gen := bytes.Fields(chunks[nr])[1]
			fmt.Fprintf(&body, "%d %s obj\n%s\nendobj\n", nr, gen, info.PDFString())
			continue
		}
		body.Write(chunks[nr])
	}

	xref, err := rewriteXRef(pdf[xrefAt:trailerAt], newOff)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body.Bytes())
	id := hex.EncodeToString(sum[:16])
	trailer, err := replaceID(pdf[trailerAt:sx], "<"+id+"><"+id+">")
	if err != nil {
		return nil, err
	}

	out := body
	xrefOff := out.Len()
	out.Write(xref)
	out.Write(trailer)
	fmt.Fprintf(&out, "startxref\n%d\n%%%%EOF\n", xrefOff)
	return out.Bytes(), nil
}

// rewriteXRef returns the classic cross-reference section xref ("xref",
// subsection headers, 20-byte entries) with the offsets of in-use entries
// taken from off.
func rewriteXRef(xref []byte, off map[int]int64) ([]byte, error) {
	out := slices.Clone(xref)
	p := len("xref")
	skipEOL := func() {
		for p < len(out) && (out[p] == '\n' || out[p] == '\r') {
			p++
		}
	}
	skipEOL()
	for p < len(out) {
		nl := bytes.IndexByte(out[p:], '\n')
		if nl < 0 {
			return nil, errors.New("xref: unterminated subsection header")
		}
		f := bytes.Fields(out[p : p+nl])
		if len(f) != 2 {
			return nil, fmt.Errorf("xref: bad subsection header %q", out[p:p+nl])
		}
		start, err1 := strconv.Atoi(string(f[0]))
		count, err2 := strconv.Atoi(string(f[1]))
		if err1 != nil || err2 != nil || start < 0 || count < 0 {
			return nil, fmt.Errorf("xref: bad subsection header %q", out[p:p+nl])
		}
		p += nl + 1
		for i := 0; i < count; i++ {
			if p+20 > len(out) {
				return nil, errors.New("xref: truncated entry")
			}
			e := out[p : p+20]
			switch e[17] {
			case 'n':
				o, ok := off[start+i]
				if !ok {
					return nil, fmt.Errorf("xref: object %d in use but not written", start+i)
				}
				copy(e[:10], fmt.Sprintf("%010d", o))
			case 'f':
			default:
				return nil, fmt.Errorf("xref: bad entry %q", e)
			}
			p += 20
		}
		skipEOL()
	}
	return out, nil
}

// replaceID sets the /ID array of the trailer dictionary to [ids].
func replaceID(trailer []byte, ids string) ([]byte, error) {
	i := bytes.Index(trailer, []byte("/ID"))
	if i < 0 {
		return nil, errors.New("trailer has no /ID")
	}
	open := bytes.IndexByte(trailer[i:], '[')
	end := bytes.IndexByte(trailer[i:], ']')
	if open < 0 || end < open {
		return nil, errors.New("trailer /ID is not an array")
	}
	var out []byte
	out = append(out, trailer[:i+open+1]...)
	out = append(out, ids...)
	out = append(out, trailer[i+end:]...)
	return out, nil
}
