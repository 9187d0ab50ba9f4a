package entratest_test

import (
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"github.com/entraweb/entraweb/entratest"
)

// A program (not a test) starts the emulator with Start and stops it with
// Close; its client trusts the emulator's own CA.
func ExampleStart() {
	srv, err := entratest.Start(entratest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	resp, err := srv.Client().Get(srv.AuthorityFor("organizations") + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer string `json:"issuer"`
	}
	json.NewDecoder(resp.Body).Decode(&doc)
	fmt.Println(strings.TrimPrefix(doc.Issuer, srv.URL))
	// Output: /{tenantid}/v2.0
}
