package observe

import "slices"

// LogicalKeys names the distinct keys learned for urls, as logical keys
// under prefix (Logical), in the order they were learned.
func LogicalKeys(urls []URLKeys, prefix string) []string {
	var out []string
	for _, u := range urls {
		for _, k := range u.Keys {
			if l := Logical(k.Key, prefix); !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
}
