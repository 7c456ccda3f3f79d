package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// visibleGroups are the groups the filter lets through, in order.
func (st *state) visibleGroups() []Group {
	if st.filter == "" {
		return st.groups
	}
	want := strings.ToLower(st.filter)
	var out []Group
	for _, g := range st.groups {
		if strings.Contains(strings.ToLower(g.Name), want) {
			out = append(out, g)
		}
	}
	return out
}

// selectedGroup is the name of the selected group among the visible ones:
// the one chosen last if it is still shown, else the first; "" when none is.
func (st *state) selectedGroup() string {
	gs := st.visibleGroups()
	for _, g := range gs {
		if g.Name == st.selected {
			return g.Name
		}
	}
	if len(gs) > 0 {
		return gs[0].Name
	}
	return ""
}

// moveSelection selects the visible group by steps below (or above) the
// selected one, stopping at the ends.
func (m *Model) moveSelection(by int) {
	gs := m.st.visibleGroups()
	if len(gs) == 0 {
		return
	}
	cur := m.st.selectedGroup()
	i := 0
	for j, g := range gs {
		if g.Name == cur {
			i = j
		}
	}
	m.st.selected = gs[min(max(i+by, 0), len(gs)-1)].Name
}

// setFilter applies a filter; the selection follows to a visible group.
func (m *Model) setFilter(f string) {
	m.st.filter = strings.TrimSpace(f)
	m.st.selected = m.st.selectedGroup()
}

// filterKey handles a key while the filter's input is open: enter keeps
// the filter, esc drops it, anything else edits it and the groups follow live.
func (m *Model) filterKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Keep):
		m.filtering = false
		m.filter.Blur()
		return nil
	case key.Matches(msg, m.keys.Clear):
		m.filtering = false
		m.filter.Blur()
		m.filter.Reset()
		m.setFilter("")
		return nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.setFilter(m.filter.Value())
	return cmd
}
