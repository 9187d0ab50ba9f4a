module github.com/entraweb/entraweb

go 1.26

require (
	github.com/AzureAD/microsoft-authentication-library-for-go v1.10.1
	github.com/golang-jwt/jwt/v5 v5.3.1
	go.etcd.io/bbolt v1.4.3
)

require (
	github.com/google/uuid v1.3.0 // indirect
	github.com/kylelemons/godebug v1.1.0 // indirect
	golang.org/x/crypto v0.11.0 // indirect
	golang.org/x/sync v0.10.0 // indirect
	golang.org/x/sys v0.29.0 // indirect
	software.sslmate.com/src/go-pkcs12 v0.7.4 // indirect
)
