package midterm

import (
	"image/color"
	"io"
	"strings"
	"unicode/utf8"
)

// Format is a text format. Only Reset is provided.
type Format struct{}

// Reset is the format that clears all styling.
var Reset Format

// Render returns the escape sequence that selects the format.
func (Format) Render() string { return "\x1b[0m" }

// SearchMatch is one occurrence of a search query.
type SearchMatch struct {
	Row, Col, Len int
}

// Terminal is a minimal line-buffer terminal.
type Terminal struct {
	// Content holds the text of each row that has been written.
	Content [][]rune

	Width       int
	AutoResizeX bool
	AutoResizeY bool

	SearchMatches []SearchMatch
	searchCurrent int

	row, col int
	esc      escState
	partial  []byte
}

type escState int

const (
	escNone escState = iota
	escStart
	escCSI
	escString   // OSC, DCS, APC, PM, SOS: until BEL or ST
	escStringST // saw ESC inside a string
)

// NewAutoResizingTerminal returns an empty terminal that grows as needed.
func NewAutoResizingTerminal() *Terminal {
	return &Terminal{AutoResizeX: true, AutoResizeY: true, searchCurrent: -1}
}

// ResizeX sets the terminal width. The stand-in never wraps lines.
func (t *Terminal) ResizeX(w int) { t.Width = w }

// UsedHeight returns the number of rows containing written text.
func (t *Terminal) UsedHeight() int { return len(t.Content) }

// Write implements io.Writer.
func (t *Terminal) Write(p []byte) (int, error) {
	n := len(p)
	if len(t.partial) > 0 {
		p = append(t.partial, p...)
		t.partial = nil
	}
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size < utf8.UTFMax && !utf8.FullRune(p) {
			t.partial = append([]byte(nil), p...)
			break
		}
		p = p[size:]
		t.put(r)
	}
	return n, nil
}

func (t *Terminal) put(r rune) {
	switch t.esc {
	case escStart:
		switch r {
		case '[':
			t.esc = escCSI
		case ']', 'P', '_', '^', 'X':
			t.esc = escString
		default:
			t.esc = escNone
		}
		return
	case escCSI:
		if r >= 0x40 && r <= 0x7e {
			t.esc = escNone
		}
		return
	case escString:
		switch r {
		case '\a':
			t.esc = escNone
		case 0x1b:
			t.esc = escStringST
		}
		return
	case escStringST:
		t.esc = escString
		if r == '\\' {
			t.esc = escNone
		}
		return
	}
	switch r {
	case 0x1b:
		t.esc = escStart
	case '\n':
		t.row++
		t.col = 0
	case '\r':
		t.col = 0
	case '\b':
		t.col = max(t.col-1, 0)
	case '\t':
		for {
			t.set(' ')
			if t.col%8 == 0 {
				break
			}
		}
	default:
		if r >= 0x20 && r != 0x7f {
			t.set(r)
		}
	}
}

func (t *Terminal) set(r rune) {
	for len(t.Content) <= t.row {
		t.Content = append(t.Content, nil)
	}
	line := t.Content[t.row]
	for len(line) < t.col {
		line = append(line, ' ')
	}
	if t.col < len(line) {
		line[t.col] = r
	} else {
		line = append(line, r)
	}
	t.Content[t.row] = line
	t.col++
}

// RenderLine writes the text of the given row.
func (t *Terminal) RenderLine(w io.Writer, row int) error {
	if row < 0 || row >= len(t.Content) {
		return nil
	}
	_, err := io.WriteString(w, string(t.Content[row]))
	return err
}

// RenderLineFgBg writes the text of the given row; the stand-in ignores the
// default colours.
func (t *Terminal) RenderLineFgBg(w io.Writer, row int, fg, bg color.Color) error {
	return t.RenderLine(w, row)
}

// Search records the case-insensitive matches of query in SearchMatches and
// returns their number.
func (t *Terminal) Search(query string) int {
	t.SearchClear()
	q := []rune(strings.ToLower(query))
	if len(q) == 0 {
		return 0
	}
	for row, line := range t.Content {
		l := []rune(strings.ToLower(string(line)))
		for col := 0; col+len(q) <= len(l); col++ {
			if string(l[col:col+len(q)]) == string(q) {
				t.SearchMatches = append(t.SearchMatches, SearchMatch{Row: row, Col: col, Len: len(q)})
				col += len(q) - 1
			}
		}
	}
	return len(t.SearchMatches)
}

// SearchClear forgets the current search.
func (t *Terminal) SearchClear() {
	t.SearchMatches = nil
	t.searchCurrent = -1
}

// SearchSetCurrent marks match i as current and returns its row; i out of
// range clears the current match and returns -1, false.
func (t *Terminal) SearchSetCurrent(i int) (int, bool) {
	if i < 0 || i >= len(t.SearchMatches) {
		t.searchCurrent = -1
		return -1, false
	}
	t.searchCurrent = i
	return t.SearchMatches[i].Row, true
}

// SearchMatchRows returns the distinct rows holding matches, in order.
func (t *Terminal) SearchMatchRows() []int {
	var rows []int
	for _, m := range t.SearchMatches {
		if len(rows) == 0 || rows[len(rows)-1] != m.Row {
			rows = append(rows, m.Row)
		}
	}
	return rows
}
