//go:build !unix

package doctor

import "errors"

func freeBytes(dir string) (uint64, error) {
	return 0, errors.New("not supported on this system")
}
