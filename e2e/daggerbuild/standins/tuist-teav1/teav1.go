package teav1

import (
	tea "github.com/charmbracelet/bubbletea"
	"github.com/vito/tuist"
)

// Wrap presents a Bubble Tea v1 model as a tuist component.
type Wrap struct {
	tuist.Compo
	Model  tea.Model
	onQuit func()
}

var _ tuist.Component = (*Wrap)(nil)

// New wraps model. The stand-in never runs it: Init, Update and View are not
// called.
func New(model tea.Model) *Wrap {
	return &Wrap{Model: model}
}

// OnQuit registers fn to be called when the model quits. Since the stand-in
// never runs the model, fn is never called.
func (w *Wrap) OnQuit(fn func()) { w.onQuit = fn }

// Render implements tuist.Component. It renders nothing.
func (w *Wrap) Render(tuist.Context) {}
