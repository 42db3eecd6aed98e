package calc

import "testing"

func TestAddPositive(t *testing.T) {
	if got := Add(2, 3); got != 5 {
		t.Fatalf("Add(2, 3) = %d, want 5", got)
	}
}

func TestAddNegative(t *testing.T) {
	if got := Add(2, -3); got != -1 {
		t.Errorf("Add(2, -3) = %d, want -1", got)
	}
}

func TestAddZero(t *testing.T) {
	t.Run("left", func(t *testing.T) {
		if Add(0, 4) != 4 {
			t.Error("Add(0, 4) != 4")
		}
	})
	t.Run("right", func(t *testing.T) {
		if Add(4, 0) != 4 {
			t.Error("Add(4, 0) != 4")
		}
	})
}
