package redisstore

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestOpContext checks the lazy deadline context against what
// context.WithTimeout promises: the deadline ends it, the caller's
// cancellation ends it, and after release it reads as canceled.
func TestOpContext(t *testing.T) {
	s := &Store{opTimeout: time.Second}
	t.Run("deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, op := s.bound(context.Background())
			defer op.release()
			if d, ok := ctx.Deadline(); !ok || d != time.Now().Add(time.Second) {
				t.Errorf("Deadline() = %v, %v", d, ok)
			}
			if err := ctx.Err(); err != nil {
				t.Fatal(err)
			}
			<-ctx.Done()
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				t.Errorf("after the deadline: %v", ctx.Err())
			}
		})
	})
	t.Run("caller cancels", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		ctx, op := s.bound(parent)
		defer op.release()
		done := ctx.Done()
		cancel()
		<-done
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("Err() = %v", ctx.Err())
		}
	})
	t.Run("released unused", func(t *testing.T) {
		ctx, op := s.bound(context.Background())
		op.release()
		<-ctx.Done()
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("Err() = %v", ctx.Err())
		}
	})
	t.Run("released after use", func(t *testing.T) {
		ctx, op := s.bound(context.Background())
		done := ctx.Done()
		op.release()
		<-done
	})
	t.Run("sooner caller deadline kept", func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		ctx, op := s.bound(parent)
		defer op.release() // nil: nothing to release
		if ctx != parent || op != nil {
			t.Error("a context with a sooner deadline was wrapped")
		}
	})
}
