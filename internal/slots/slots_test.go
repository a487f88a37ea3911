package slots

import "testing"

func TestSlots(t *testing.T) {
	s := New(2)
	if !s.TryTake() || !s.TryTake() {
		t.Fatal("a free slot was refused")
	}
	if s.TryTake() {
		t.Fatal("a third slot was given out of two")
	}
	s.Release()
	if !s.TryTake() {
		t.Fatal("a released slot was not given again")
	}
}
