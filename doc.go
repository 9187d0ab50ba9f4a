// Package entraweb adds Microsoft Entra ID sign-in to Go web applications.
package entraweb
