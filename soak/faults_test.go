package soak

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// The faults the injector chooses from. Each is in force for a while and
// then undone; one at a time, so every failure has one cause.
const (
	faultKeys     = "signing keys rotated"
	faultSlow     = "provider slow"
	faultToken503 = "token endpoint 503"
	faultOutage   = "provider 503"
	faultReset    = "provider resets connections"
	faultRedis    = "redis restarted"
	faultRedisCut = "redis connections cut"
	faultInstance = "app instance killed"
)

var faultKinds = []string{faultKeys, faultSlow, faultToken503, faultOutage, faultReset, faultRedis, faultRedisCut, faultInstance}

// afterFault is how long after a fault ends a failure is still put down
// to it: requests that were in flight, clients reconnecting.
const afterFault = 2 * time.Second

func (r *rig) faults() *faultLog { return r.stats.faults }

// inject injects faults at random until ctx ends, and undoes the last
// one. It runs on the test's goroutine (Redis' Restart may fail the
// test).
func (r *rig) inject(ctx context.Context, rnd *rand.Rand) {
	log := r.faults()
	for {
		if !sleep(ctx, time.Duration(1000+rnd.IntN(2000))*time.Millisecond) {
			return
		}
		hold := time.Duration(500+rnd.IntN(1500)) * time.Millisecond
		switch kind := faultKinds[rnd.IntN(len(faultKinds))]; kind {
		case faultKeys:
			// Keys change under every token: no answer may fail for it.
			end := log.begin(kind, false, 0)
			if err := r.srv.RotateKeys(); err != nil {
				r.t.Errorf("rotating keys: %v", err)
			}
			sleep(ctx, hold)
			r.srv.RetireOldKeys()
			end()
		case faultSlow:
			// A slow provider is slow, not down: no answer may fail for it
			// either.
			end := log.begin(kind, false, 0)
			r.srv.SetLatency(time.Duration(200+rnd.IntN(1800)) * time.Millisecond)
			sleep(ctx, hold)
			r.srv.SetLatency(0)
			end()
		case faultToken503:
			end := log.begin(kind, true, afterFault)
			r.srv.FailNext(entratest.EndpointToken, 1<<30, http.StatusServiceUnavailable)
			sleep(ctx, hold)
			r.srv.FailNext(entratest.EndpointToken, 0, 0)
			end()
		case faultOutage, faultReset:
			end := log.begin(kind, true, afterFault)
			o := entratest.Outage503
			if kind == faultReset {
				o = entratest.OutageReset
			}
			r.srv.SetOutage(o)
			sleep(ctx, hold)
			r.srv.SetOutage(entratest.OutageNone)
			end()
		case faultRedis:
			end := log.begin(kind, true, afterFault)
			r.redis.Stop()
			sleep(ctx, hold)
			r.redis.Restart()
			end()
		case faultRedisCut:
			// Redis stays up but drops every client's connection, as a
			// restarted proxy or a network blip would.
			end := log.begin(kind, true, afterFault)
			if _, err := r.redis.Do("CLIENT", "KILL", "TYPE", "normal"); err != nil {
				r.t.Errorf("cutting Redis' connections: %v", err)
			}
			sleep(ctx, hold)
			end()
		case faultInstance:
			i := rnd.IntN(len(r.inst))
			end := log.begin(kind, true, afterFault)
			r.kill(i)
			sleep(ctx, hold)
			if err := r.revive(i); err != nil {
				r.t.Errorf("restarting instance %d: %v", i, err)
			}
			end()
		}
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
