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
	Filter  key.Binding
	Up      key.Binding
	Down    key.Binding
	Open    key.Binding
	DryRun  key.Binding
	Close   key.Binding
	// Keep and Clear end the filter's input: keep what was typed, or drop it.
	Keep  key.Binding
	Clear key.Binding
}

// DefaultKeyMap is the dashboard's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Pause:   key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause")),
		Recount: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "recount")),
		Focus:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next panel")),
		Back:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous panel")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Filter:  key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "previous group")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "next group")),
		Open:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		DryRun:  key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "dry-run")),
		Close:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back, clear the filter")),
		Keep:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep the filter")),
		Clear:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear the filter")),
	}
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Quit, k.Pause, k.Recount, k.Filter, k.Open, k.DryRun, k.Help}
}

// FullHelp is the help overlay: every binding.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Quit, k.Pause, k.Recount, k.Focus, k.Back},
		{k.Up, k.Down, k.Open, k.DryRun},
		{k.Filter, k.Close, k.Help},
	}
}

// filterHelp is the footer while the filter is typed.
func (k KeyMap) filterHelp() []key.Binding { return []key.Binding{k.Keep, k.Clear} }

// viewHelp is the footer of the detail and dry-run views.
func (k KeyMap) viewHelp() []key.Binding {
	back := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back"))
	again := key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "again"))
	return []key.Binding{back, again, k.DryRun, k.Help, k.Quit}
}
