package session

import "sync"

// OpenFunc opens a store from a data source name (a file path, a URL)
// and returns it with the function that closes it.
type OpenFunc func(dsn string) (Store, func() error, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]OpenFunc{}
)

// Register makes a store available by name to configuration files, as
// database/sql drivers are: a store package registers itself when it is
// imported, so the core links only the stores an app imports.
func Register(name string, open OpenFunc) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("session: store " + name + " registered twice")
	}
	registry[name] = open
}

// Opener returns the store registered under name.
func Opener(name string) (OpenFunc, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	open, ok := registry[name]
	return open, ok
}
