package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the dashboard answers to.
type KeyMap struct {
	Quit    key.Binding
	Pause   key.Binding
	Recount key.Binding
	Focus   key.Binding
	Back    key.Binding
	Help    key.Binding
}

// DefaultKeyMap is the dashboard's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Pause:   key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause")),
		Recount: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "exact recount")),
		Focus:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next panel")),
		Back:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous panel")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
	}
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Quit, k.Pause, k.Recount, k.Focus, k.Help}
}

// FullHelp is the help screen.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Quit, k.Pause, k.Recount}, {k.Focus, k.Back, k.Help}}
}
