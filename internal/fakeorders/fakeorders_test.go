package fakeorders

import (
	"encoding/json"
	"net/http"
	"testing"
)

func get(t *testing.T, s *Server, path, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func TestServer(t *testing.T) {
	s := NewDemo("tok")
	defer s.Close()
	if code, _ := get(t, s, "/orders/ORD-1001", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	code, o := get(t, s, "/orders/ORD-1001", "tok")
	if code != http.StatusOK || o["customer_id"] != "C-1001" || o["reference"] != "ORD-1001" {
		t.Errorf("order: %d %v", code, o)
	}
	if code, _ := get(t, s, "/orders/ORD-0000", "tok"); code != http.StatusNotFound {
		t.Errorf("missing order: %d", code)
	}
	code, l := get(t, s, "/customers/C-1001/orders", "tok")
	orders, _ := l["orders"].([]any)
	if code != http.StatusOK || len(orders) != 2 || orders[0].(map[string]any)["reference"] != "ORD-1002" {
		t.Errorf("list: %d %v", code, l)
	}
	s.Leak(true)
	if _, l := get(t, s, "/customers/C-1001/orders", "tok"); len(l["orders"].([]any)) != 4 {
		t.Errorf("leaky list: %v", l)
	}
	s.Fail(1, http.StatusServiceUnavailable)
	if code, _ := get(t, s, "/orders/ORD-1001", "tok"); code != http.StatusServiceUnavailable {
		t.Errorf("fail: %d", code)
	}
	if code, _ := get(t, s, "/orders/ORD-1001", "tok"); code != http.StatusOK {
		t.Errorf("after fail: %d", code)
	}
	if n := len(s.Requests()); n != 7 {
		t.Errorf("%d requests recorded", n)
	}
}
