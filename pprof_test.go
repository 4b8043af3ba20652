package main

import "testing"

func TestCheckPprofAddr(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"localhost:6060", true},
		{"[::1]:6060", true},
		{":6060", false}, // every interface
		{"0.0.0.0:6060", false},
		{"10.0.0.5:6060", false},
		{"example.com:6060", false},
		{"6060", false},
	}
	for _, tt := range tests {
		if err := checkPprofAddr(tt.addr); (err == nil) != tt.ok {
			t.Errorf("checkPprofAddr(%q) = %v; want ok %v", tt.addr, err, tt.ok)
		}
	}
}
