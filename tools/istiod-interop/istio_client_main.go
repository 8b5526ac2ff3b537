// Istio's own clients against Weft's controlplane, for tools/istiod-interop-check.sh: the CA client pilot-agent
// uses (citadel) and the delta xDS client (adsc) with Istio's generated workload API types, i.e. what a real
// ztunnel's configuration and certificates decode into. It is not part of Weft's build: the check compiles it as
// a package of its own inside a copy of Istio's module.
//
// Environment: WEFT_XDS_ADDR (the controlplane's 15012), WEFT_ROOT (its root, PEM), WEFT_APP_TOKEN (an istio-ca
// token of default/sleep, for the certificate), WEFT_ZTUNNEL_TOKEN (one of istio-system/ztunnel, for xDS),
// WEFT_NODE_IP. Output, one line each:
//
//	cert <URI SAN of the leaf> <certificates in the chain> verified|unverified:<why>
//	address <name> <the Address as Istio's protojson>
//	authorization <name> <the Authorization as Istio's protojson>
//	unknown <type> <name> <field paths Istio's types do not know>
//	synced | error <what>
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/adsc"
	"istio.io/istio/pkg/security"
	"istio.io/istio/pkg/workloadapi"
	workloadsecurity "istio.io/istio/pkg/workloadapi/security"
	"istio.io/istio/security/pkg/credentialfetcher/plugin"
	"istio.io/istio/security/pkg/nodeagent/caclient/providers/citadel"
	"istio.io/istio/security/pkg/pki/util"
)

const serverName = "istiod.istio-system.svc"

func main() {
	addr, root := os.Getenv("WEFT_XDS_ADDR"), os.Getenv("WEFT_ROOT")
	certificate(addr, root, os.Getenv("WEFT_APP_TOKEN"))
	discovery(addr, root, os.Getenv("WEFT_ZTUNNEL_TOKEN"), os.Getenv("WEFT_NODE_IP"))
}

// certificate asks for default/sleep's certificate as pilot-agent would, and checks the chain against the root.
func certificate(addr, root, token string) {
	client, err := citadel.NewCitadelClient(&security.Options{
		CAEndpoint:    addr,
		CAEndpointSAN: serverName,
		ClusterID:     "Kubernetes",
		CredFetcher:   plugin.CreateTokenPlugin(token),
	}, &citadel.TLSOptions{RootCert: root})
	if err != nil {
		fmt.Printf("error ca client: %v\n", err)
		return
	}
	defer client.Close()
	csr, _, err := util.GenCSR(util.CertOptions{Host: "spiffe://cluster.local/ns/default/sa/sleep", ECSigAlg: util.EcdsaSigAlg})
	if err != nil {
		fmt.Printf("error csr: %v\n", err)
		return
	}
	chain, err := client.CSRSign(csr, 3600)
	if err != nil {
		fmt.Printf("error sign: %v\n", err)
		return
	}
	certs := []*x509.Certificate{}
	for _, p := range chain {
		rest := []byte(p)
		for {
			var block *pem.Block
			if block, rest = pem.Decode(rest); block == nil {
				break
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				fmt.Printf("error parse: %v\n", err)
				return
			}
			certs = append(certs, c)
		}
	}
	if len(certs) == 0 {
		fmt.Println("error sign: no certificate")
		return
	}
	leaf := certs[0]
	uri := "-"
	if len(leaf.URIs) == 1 {
		uri = leaf.URIs[0].String()
	}
	verdict := "verified"
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	if pemRoot, err := os.ReadFile(root); err != nil || !roots.AppendCertsFromPEM(pemRoot) {
		verdict = "unverified:root"
	}
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil && verdict == "verified" {
		verdict = "unverified:" + strings.ReplaceAll(err.Error(), " ", "_")
	}
	fmt.Printf("cert %s %d %s\n", uri, len(certs), verdict)
}

// tokenFile is the bearer token ztunnel sends with its xDS stream.
type tokenFile string

func (t tokenFile) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	b, err := os.ReadFile(string(t))
	if err != nil {
		return nil, err
	}
	return map[string]string{"authorization": "Bearer " + strings.TrimSpace(string(b))}, nil
}
func (tokenFile) RequireTransportSecurity() bool { return true }

// discovery subscribes to both ambient types as ztunnel does and prints each resource as Istio's types read it.
func discovery(addr, root, token, ip string) {
	pemRoot, err := os.ReadFile(root)
	if err != nil {
		fmt.Printf("error root: %v\n", err)
		return
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemRoot)
	var mu sync.Mutex
	print := func(kind, name string, m proto.Message) {
		mu.Lock()
		defer mu.Unlock()
		if paths := unknownFields(m.ProtoReflect(), ""); len(paths) > 0 {
			fmt.Printf("unknown %s %s %s\n", kind, name, strings.Join(paths, ","))
		}
		text, err := protojson.Marshal(m)
		if err != nil {
			fmt.Printf("error json %s: %v\n", name, err)
			return
		}
		fmt.Printf("%s %s %s\n", kind, name, text)
	}
	client := adsc.NewDelta(addr, &adsc.DeltaADSConfig{Config: adsc.Config{
		ClientName: "weft-interop",
		Namespace:  "istio-system",
		Workload:   "ztunnel-a",
		NodeType:   model.Ztunnel,
		IP:         ip,
		GrpcOpts: []grpc.DialOption{
			grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12})),
			grpc.WithPerRPCCredentials(tokenFile(token)),
		},
	}},
		adsc.Register(func(_ adsc.HandlerContext, name, _ string, a *workloadapi.Address, event adsc.Event) {
			if event != adsc.EventDelete && a != nil {
				print("address", name, a)
			}
		}),
		adsc.Watch[*workloadapi.Address]("*"),
		adsc.Register(func(_ adsc.HandlerContext, name, _ string, a *workloadsecurity.Authorization, event adsc.Event) {
			if event != adsc.EventDelete && a != nil {
				print("authorization", name, a)
			}
		}),
		adsc.Watch[*workloadsecurity.Authorization]("*"),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go client.Run(ctx)
	select {
	case <-client.Synced():
		time.Sleep(2 * time.Second) // anything pushed right after the first responses
		mu.Lock()
		fmt.Println("synced")
		mu.Unlock()
	case <-ctx.Done():
		fmt.Println("error xds: not synced in 30 s")
	}
	client.Close()
}

// unknownFields lists the paths of fields Istio's types did not recognise, anywhere in m.
func unknownFields(m protoreflect.Message, path string) []string {
	var out []string
	if len(m.GetUnknown()) > 0 {
		out = append(out, path+"?")
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		at := path + "." + string(fd.Name())
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len(); i++ {
				out = append(out, unknownFields(v.List().Get(i).Message(), fmt.Sprintf("%s[%d]", at, i))...)
			}
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					out = append(out, unknownFields(mv.Message(), fmt.Sprintf("%s[%v]", at, k.Interface()))...)
					return true
				})
			}
		default:
			out = append(out, unknownFields(v.Message(), at)...)
		}
		return true
	})
	return out
}
