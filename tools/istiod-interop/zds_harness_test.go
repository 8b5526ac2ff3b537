// Istio's own ZDS server (the istio-cni node agent's end of ZDS), driven line by line, for
// tools/istiod-interop-check.sh. It is not part of Weft's build: the check compiles it into Istio's
// cni/pkg/nodeagent package with `go test -c -overlay`, since the server is internal to that package.
//
// Weft's ztunnel connects to WEFT_ZDS_ADDR. Each line on stdin is one command; each is answered on stdout with
// one line `weft-zds: ok <command>` or `weft-zds: error <command>: <why>` (Istio's own log lines go to stdout
// too, so replies carry the prefix):
//
//	connected N                                    wait (up to 30 s) until N ztunnels are connected
//	add UID NAMESPACE NAME SERVICE_ACCOUNT NETNS   open NETNS, send AddWorkload with its fd, wait for the ack
//	delete UID                                     send DelWorkload, wait for the ack, forget the pod
package nodeagent

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestWeftZdsHarness(t *testing.T) {
	addr := os.Getenv("WEFT_ZDS_ADDR")
	if addr == "" {
		t.Skip("run by tools/istiod-interop-check.sh")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pods := newPodNetnsCache(OpenNetns)
	server, err := newZtunnelServer(addr, pods, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	go server.Run(ctx)
	fmt.Println("weft-zds: ok listening")

	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) == 0 {
			continue
		}
		var err error
		switch {
		case fields[0] == "connected" && len(fields) == 2:
			deadline := time.Now().Add(30 * time.Second)
			for fmt.Sprint(server.conns.len()) != fields[1] && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if got := fmt.Sprint(server.conns.len()); got != fields[1] {
				err = fmt.Errorf("%s connected", got)
			}
		case fields[0] == "add" && len(fields) == 6:
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{UID: types.UID(fields[1]), Namespace: fields[2], Name: fields[3]},
				Spec:       corev1.PodSpec{ServiceAccountName: fields[4]},
			}
			var netns Netns
			if netns, err = pods.UpsertPodCache(pod, fields[5]); err == nil {
				err = server.PodAdded(ctx, pod, netns)
			}
		case fields[0] == "delete" && len(fields) == 2:
			if err = server.PodDeleted(ctx, fields[1]); err == nil {
				pods.Take(fields[1]) // its fd is closed when collected, as the agent leaves it
			}
		default:
			err = fmt.Errorf("unknown command or arguments")
		}
		if err != nil {
			fmt.Printf("weft-zds: error %s: %v\n", fields[0], err)
		} else {
			fmt.Printf("weft-zds: ok %s\n", fields[0])
		}
	}
}
