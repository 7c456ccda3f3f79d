package warm

import (
	"net/url"
	"slices"
	"testing"
)

func TestProductIDs(t *testing.T) {
	cases := []struct {
		body string
		want []int64
	}{
		{`[{"id":3,"name":"a"},{"id":1}]`, []int64{3, 1}},
		{`{"count":2,"next":null,"previous":null,"results":[{"id":5},{"id":9}]}`, []int64{5, 9}},
		{`{"id":4}`, []int64{}},
		{`not json`, nil},
		{`[{"id":0},{"name":"no id"}]`, []int64{}},
	}
	for _, tc := range cases {
		if got := ProductIDs([]byte(tc.body)); !slices.Equal(got, tc.want) {
			t.Errorf("ProductIDs(%s) = %v, want %v", tc.body, got, tc.want)
		}
	}
}

func TestDeepPlanWarmsEachProductOnce(t *testing.T) {
	api, _ := url.Parse("http://api:8000")
	p := DeepPlan(api, []int64{7, 2, 7})
	var got []string
	for _, r := range p.Requests {
		got = append(got, r.URL+" "+r.Key)
	}
	want := []string{
		"http://api:8000/api/products/7/ product:7",
		"http://api:8000/api/products/7/variants/ product:7:variants",
		"http://api:8000/api/products/7/recommendations/ product:7:recommendations",
		"http://api:8000/api/products/2/ product:2",
		"http://api:8000/api/products/2/variants/ product:2:variants",
		"http://api:8000/api/products/2/recommendations/ product:2:recommendations",
	}
	if !slices.Equal(got, want) {
		t.Errorf("DeepPlan = %q", got)
	}
}
