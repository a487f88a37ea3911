package slots

import "testing"

func TestSlots(t *testing.T) {
	s := New(2)
	for i := range 2 {
		if !s.TryTake() {
			t.Fatalf("free slot %d refused", i+1)
		}
	}
	if s.TryTake() {
		t.Fatal("a third slot was given out of two")
	}
	s.Release()
	if !s.TryTake() {
		t.Fatal("a released slot was not given again")
	}
}
