package main

import (
	"strings"
	"testing"
)

func TestDBForLog(t *testing.T) {
	tests := []struct{ db, want string }{
		{"firstline.db", "firstline.db"},
		{"postgres://firstline@db:5432/fl?sslmode=require", "postgres://firstline@db:5432/fl?sslmode=require"},
		{"postgres://firstline:hunter2secret@db:5432/fl", "postgres://firstline:xxxxx@db:5432/fl"},
		{"postgresql://db/fl?password=hunter2secret&sslmode=disable", "postgresql://db/fl?password=xxxxx&sslmode=disable"},
		{"postgres://db/fl?sslpassword=hunter2secret", "postgres://db/fl?sslpassword=xxxxx"},
		{"postgres://firstline:hunter2secret@db:5432/fl\x7f", "postgres://firstline:xxxxx@db:5432/fl\x7f"},
	}
	for _, tt := range tests {
		got := dbForLog(tt.db)
		if got != tt.want || strings.Contains(got, "hunter2secret") {
			t.Errorf("dbForLog(%q) = %q, want %q", tt.db, got, tt.want)
		}
	}
}
