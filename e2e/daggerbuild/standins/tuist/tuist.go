package tuist

import (
	"io"
	"os"
	"strings"
	"sync"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
)

// Component is anything that renders lines.
type Component interface {
	Render(ctx Context)
}

// Interactive components receive key presses.
type Interactive interface {
	HandleKeyPress(ctx Context, ev uv.KeyPressEvent) bool
}

// Focusable components are told when they gain or lose focus.
type Focusable interface {
	SetFocused(ctx Context, focused bool)
}

// Mounter components are told when they are mounted.
type Mounter interface {
	OnMount(ctx Context)
}

// Dismounter components are told when they are removed.
type Dismounter interface {
	OnDismount()
}

// MouseEvent is a mouse event with its position relative to the component.
type MouseEvent struct {
	uv.MouseEvent
	Row, Col int
}

// MouseEnabled components receive mouse events.
type MouseEnabled interface {
	HandleMouse(ctx Context, ev MouseEvent) bool
}

// Hoverable components are told when the mouse enters or leaves them.
type Hoverable interface {
	SetHovered(ctx Context, hovered bool)
}

// Context is passed to Render. Width and Height are the space available;
// zero means unconstrained.
type Context struct {
	Width, Height int

	out *[]string
	tui *TUI
}

// Line appends one line of output.
func (c Context) Line(line string) { c.Lines(line) }

// Lines appends lines of output.
func (c Context) Lines(lines ...string) {
	if c.out != nil {
		*c.out = append(*c.out, lines...)
	}
}

// Resize returns a copy of the context with a different size.
func (c Context) Resize(width, height int) Context {
	c.Width, c.Height = width, height
	return c
}

// ScreenHeight returns the terminal height, or 0 if unknown.
func (c Context) ScreenHeight() int {
	if c.tui == nil {
		return 0
	}
	_, h := c.tui.term.Size()
	return h
}

// SetFocus moves focus to the given component.
func (c Context) SetFocus(comp Component) {
	if c.tui != nil {
		c.tui.SetFocus(comp)
	}
}

// RenderResult is the output of rendering a child.
type RenderResult struct {
	Lines []string
}

// Compo is embedded in components. The stand-in does no caching, so Update
// only exists for the callers.
type Compo struct{}

// Update marks the component as needing a re-render.
func (*Compo) Update() {}

// RenderChildResult renders child with ctx's size and returns its lines.
func (*Compo) RenderChildResult(ctx Context, child Component) RenderResult {
	var lines []string
	ctx.out = &lines
	if child != nil {
		child.Render(ctx)
	}
	return RenderResult{Lines: lines}
}

// RenderChild renders child into ctx's output.
func (c *Compo) RenderChild(ctx Context, child Component) {
	ctx.Lines(c.RenderChildResult(ctx, child).Lines...)
}

// RenderChildInline renders child and joins its lines into one string.
func (c *Compo) RenderChildInline(ctx Context, child Component) string {
	return strings.Join(c.RenderChildResult(ctx, child).Lines, "")
}

// Container renders its children one after another.
type Container struct {
	Compo
	Children []Component
}

// AddChild appends a child.
func (c *Container) AddChild(child Component) {
	c.Children = append(c.Children, child)
}

// RemoveChild removes a child, reporting whether it was present.
func (c *Container) RemoveChild(child Component) bool {
	for i, ch := range c.Children {
		if ch == child {
			c.Children = append(c.Children[:i:i], c.Children[i+1:]...)
			return true
		}
	}
	return false
}

// Render implements Component.
func (c *Container) Render(ctx Context) {
	for _, ch := range c.Children {
		c.RenderChild(ctx, ch)
	}
}

// Terminal is what a TUI draws on.
type Terminal interface {
	// Size returns the width and height, or zeros if unknown.
	Size() (width, height int)
}

type stdTerminal struct{}

func (stdTerminal) Size() (int, int) { return 0, 0 }

// NewStdTerminal returns the process's terminal. The stand-in reports an
// unknown size and never draws on it.
func NewStdTerminal() Terminal { return stdTerminal{} }

// TUI is the root of a component tree.
type TUI struct {
	Container

	term    Terminal
	focused Component

	mu      sync.Mutex
	queue   []func()
	wake    chan struct{}
	stop    chan struct{}
	started bool
	mounted bool
	stopped bool
}

// New returns a TUI for the terminal. Nothing happens until Start.
func New(term Terminal) *TUI {
	if term == nil {
		term = stdTerminal{}
	}
	return &TUI{
		term: term,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
	}
}

func (t *TUI) ctx() Context {
	w, h := t.term.Size()
	return Context{Width: w, Height: h, tui: t}
}

// AddChild appends a component, mounting it if the TUI is running.
func (t *TUI) AddChild(child Component) {
	t.Container.AddChild(child)
	t.mu.Lock()
	mounted := t.mounted && !t.stopped
	t.mu.Unlock()
	if m, ok := child.(Mounter); ok && mounted {
		m.OnMount(t.ctx())
	}
}

// RemoveChild removes a component, dismounting it.
func (t *TUI) RemoveChild(child Component) {
	if t.Container.RemoveChild(child) {
		if d, ok := child.(Dismounter); ok {
			d.OnDismount()
		}
	}
}

// SetFocus moves focus to comp, notifying Focusable components.
func (t *TUI) SetFocus(comp Component) {
	if comp == t.focused {
		return
	}
	old := t.focused
	t.focused = comp
	if f, ok := old.(Focusable); ok {
		f.SetFocused(t.ctx(), false)
	}
	if f, ok := comp.(Focusable); ok {
		f.SetFocused(t.ctx(), true)
	}
}

// ShowOverlay would draw comp over the content; the stand-in never draws.
func (t *TUI) ShowOverlay(comp Component, opts *OverlayOptions) *OverlayHandle {
	return &OverlayHandle{}
}

// SetShowHardwareCursor is a no-op.
func (t *TUI) SetShowHardwareCursor(bool) {}

// SetDebugWriter is a no-op.
func (t *TUI) SetDebugWriter(io.Writer) {}

// RequestRender is a no-op: nothing is drawn.
func (t *TUI) RequestRender(force bool) {}

// RenderLines renders the component tree to lines.
func (t *TUI) RenderLines() []string {
	return t.RenderChildResult(t.ctx(), &t.Container).Lines
}

// Dispatch queues fn to run on the event loop goroutine started by Start.
// Functions dispatched after Stop are dropped.
func (t *TUI) Dispatch(fn func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.queue = append(t.queue, fn)
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Start runs the event loop without a terminal: it mounts the top-level
// components and then runs dispatched functions until Stop. Nothing is drawn
// and no input is read.
func (t *TUI) Start() error {
	t.mu.Lock()
	if t.started {
		t.mu.Unlock()
		return nil
	}
	t.started = true
	t.queue = append([]func(){t.mount}, t.queue...)
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
	go t.loop()
	return nil
}

func (t *TUI) mount() {
	t.mu.Lock()
	t.mounted = true
	t.mu.Unlock()
	for _, ch := range t.Children {
		if m, ok := ch.(Mounter); ok {
			m.OnMount(t.ctx())
		}
	}
}

func (t *TUI) loop() {
	for {
		select {
		case <-t.stop:
			return
		case <-t.wake:
		}
		t.mu.Lock()
		fns := t.queue
		t.queue = nil
		t.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
	}
}

// Stop ends the event loop.
func (t *TUI) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		close(t.stop)
	}
}

// Exec runs fn with the process's standard streams.
func (t *TUI) Exec(fn func(stdin io.Reader, stdout, stderr io.Writer) error) error {
	return fn(os.Stdin, os.Stdout, os.Stderr)
}

// Size is an overlay dimension.
type Size struct {
	abs int
}

// SizeAbs is an absolute size in cells.
func SizeAbs(n int) Size { return Size{abs: n} }

// Anchor is where an overlay is placed.
type Anchor int

// Overlay anchors.
const (
	AnchorTopLeft Anchor = iota
	AnchorTopRight
	AnchorBottomLeft
	AnchorBottomRight
)

// OverlayMargin is the space around an overlay.
type OverlayMargin struct {
	Top, Right, Bottom, Left int
}

// OverlayOptions position an overlay.
type OverlayOptions struct {
	Width  Size
	Height Size
	Anchor Anchor
	Margin OverlayMargin
}

// OverlayHandle refers to a shown overlay.
type OverlayHandle struct{}

// Remove hides the overlay.
func (*OverlayHandle) Remove() {}

// Spinner renders an animated frame chosen by the time since Epoch.
type Spinner struct {
	Compo
	Epoch    time.Time
	Frames   []string
	Interval time.Duration
}

// NewSpinner returns a braille spinner.
func NewSpinner() *Spinner {
	return &Spinner{
		Epoch:    time.Now(),
		Frames:   []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"},
		Interval: 100 * time.Millisecond,
	}
}

// Render implements Component.
func (s *Spinner) Render(ctx Context) {
	if len(s.Frames) == 0 {
		ctx.Line("")
		return
	}
	i := 0
	if s.Interval > 0 {
		i = int(time.Since(s.Epoch)/s.Interval) % len(s.Frames)
	}
	ctx.Line(s.Frames[max(i, 0)])
}

// TextInput is a single-line prompt. The stand-in reads no input; it only
// holds and renders a value.
type TextInput struct {
	Compo
	Prompt string
	// OnSubmit is called with the value on enter; returning true clears it.
	OnSubmit func(ctx Context, value string) bool
	// KeyInterceptor sees key presses first; returning true consumes them.
	KeyInterceptor func(ctx Context, ev uv.KeyPressEvent) bool

	value  []rune
	cursor int
}

// NewTextInput returns a text input holding value.
func NewTextInput(value string) *TextInput {
	t := &TextInput{}
	t.SetValue(value)
	return t
}

// Value returns the current text.
func (t *TextInput) Value() string { return string(t.value) }

// SetValue replaces the text and moves the cursor to its end.
func (t *TextInput) SetValue(value string) {
	t.value = []rune(value)
	t.cursor = len(t.value)
}

// InsertRune inserts r at the cursor.
func (t *TextInput) InsertRune(r rune) {
	t.value = append(t.value[:t.cursor], append([]rune{r}, t.value[t.cursor:]...)...)
	t.cursor++
}

// Render implements Component.
func (t *TextInput) Render(ctx Context) {
	ctx.Lines(strings.Split(t.Prompt+string(t.value), "\n")...)
}

// Completion is one completion candidate.
type Completion struct {
	Label  string
	Detail string
}

// CompletionResult is what a completion function returns: candidates that
// replace the input from byte offset ReplaceFrom to the cursor.
type CompletionResult struct {
	Items       []Completion
	ReplaceFrom int
}

// CompletionMenu offers completions for a TextInput. The stand-in never
// shows it.
type CompletionMenu struct {
	Compo
	input    *TextInput
	complete func(input string, cursorPos int) CompletionResult
}

// NewCompletionMenu returns a completion menu for input.
func NewCompletionMenu(input *TextInput, complete func(input string, cursorPos int) CompletionResult) *CompletionMenu {
	return &CompletionMenu{input: input, complete: complete}
}

// HandleKeyPress never consumes the key.
func (m *CompletionMenu) HandleKeyPress(ctx Context, ev uv.KeyPressEvent) bool { return false }

// Render implements Component; the menu is never shown.
func (m *CompletionMenu) Render(ctx Context) {}
