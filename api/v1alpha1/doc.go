// Package v1alpha1 holds the SealedSecret API (group kseal.dev, version
// v1alpha1). It only describes data; sealing and opening live in pkg/crypto.
//
// +kubebuilder:object:generate=true
// +groupName=kseal.dev
package v1alpha1
