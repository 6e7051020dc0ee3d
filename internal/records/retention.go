package records

import (
	"slices"
	"time"
)

// Due is when a person's personal data are due for erasure under a
// retention period (see [RetentionDue]).
type Due struct {
	Person *Person
	// Last is the time of the person's last event.
	Last time.Time
	// At is when their data are due for erasure: the start of the year
	// that follows the last event's year by years+1 (Europe/Berlin), i.e.
	// years full years after the end of that year (§§ 195, 199 BGB).
	At time.Time
}

// RetentionDue returns when p's personal data are due for erasure after
// years full years counted from the end of the year of their last event,
// and false if they never are while something is granted (a grant in
// force is proof still needed) or p is already erased.
func RetentionDue(p *Person, years int) (Due, bool) {
	if !p.Erased.IsZero() || IsErased(p.Phone) || len(p.Events) == 0 {
		return Due{}, false
	}
	for _, st := range p.Purposes {
		if st.State == Granted {
			return Due{}, false
		}
	}
	var last time.Time
	for _, e := range p.Events {
		if e.Record.Time.After(last) {
			last = e.Record.Time
		}
	}
	y := last.In(Berlin()).Year()
	at := time.Date(y+1+years, time.January, 1, 0, 0, 0, 0, Berlin())
	return Due{Person: p, Last: last, At: at}, true
}

// Retention returns everyone whose data fall due under years (see
// [RetentionDue]), the earliest first; with now not zero, only those due
// at now.
func (b *Book) Retention(years int, now time.Time) []Due {
	var out []Due
	for _, p := range b.People() {
		d, ok := RetentionDue(p, years)
		if !ok || (!now.IsZero() && now.Before(d.At)) {
			continue
		}
		out = append(out, d)
	}
	slices.SortStableFunc(out, func(a, c Due) int { return a.At.Compare(c.At) })
	return out
}
