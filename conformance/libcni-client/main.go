// Command libcni-client drives CNI plugins through libcni, the library every Go runtime uses
// (containerd, CRI-O, podman, cnitool), so that tests see exactly what those runtimes send: the
// stdin libcni serialises, its result cache, prevResult for CHECK and DEL, chained plugins run in
// order for ADD and in reverse for DEL.
//
//	libcni-client add|check|del --conflist FILE --netns PATH --container-id ID --ifname IF
//	    --cache-dir DIR --bin-dir DIR[:DIR...] [--args 'K=V;K2=V2'] [--capability-args JSON]
//	libcni-client validate --conflist FILE --bin-dir DIR[:DIR...]
//
// add prints the result JSON on stdout; validate prints the list's capabilities as a sorted JSON
// array. Any failure exits 1 with libcni's error on stderr; bad usage exits 2.
//
// Built offline in GOPATH mode against Debian's golang-github-appc-cni-dev (see
// conformance/libcni-client.ts).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

type options struct {
	conflist       string
	netns          string
	containerID    string
	ifName         string
	cacheDir       string
	binDir         string
	args           string
	capabilityArgs string
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "libcni-client: %s\nusage: libcni-client add|check|del|validate --conflist FILE --netns PATH --container-id ID --ifname IF --cache-dir DIR --bin-dir DIR[:DIR...] [--args K=V;...] [--capability-args JSON]\n", msg)
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err.Error())
	os.Exit(1)
}

func parse(verb string, argv []string) options {
	var o options
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.StringVar(&o.conflist, "conflist", "", "network configuration list file")
	fs.StringVar(&o.netns, "netns", "", "container network namespace path")
	fs.StringVar(&o.containerID, "container-id", "", "container id")
	fs.StringVar(&o.ifName, "ifname", "", "interface name in the container")
	fs.StringVar(&o.cacheDir, "cache-dir", "", "libcni result cache directory")
	fs.StringVar(&o.binDir, "bin-dir", "", "plugin directories, colon separated")
	fs.StringVar(&o.args, "args", "", "CNI_ARGS as K=V;K2=V2")
	fs.StringVar(&o.capabilityArgs, "capability-args", "", "runtimeConfig capability arguments as JSON")
	if err := fs.Parse(argv); err != nil {
		usage(err.Error())
	}
	if fs.NArg() > 0 {
		usage(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	required := [][2]string{{"--conflist", o.conflist}, {"--bin-dir", o.binDir}}
	if verb != "validate" {
		required = append(required, [][2]string{
			{"--netns", o.netns}, {"--container-id", o.containerID},
			{"--ifname", o.ifName}, {"--cache-dir", o.cacheDir},
		}...)
	}
	for _, r := range required {
		if r[1] == "" {
			usage(fmt.Sprintf("%s needs %s", verb, r[0]))
		}
	}
	return o
}

// runtimeConf mirrors what cnitool builds from CNI_ARGS and CAP_ARGS.
func runtimeConf(o options) (*libcni.RuntimeConf, error) {
	rt := &libcni.RuntimeConf{ContainerID: o.containerID, NetNS: o.netns, IfName: o.ifName}
	if o.args != "" {
		for _, pair := range strings.Split(o.args, ";") {
			kv := strings.SplitN(pair, "=", 2)
			if len(kv) != 2 {
				return nil, fmt.Errorf("invalid --args pair %q: want K=V", pair)
			}
			rt.Args = append(rt.Args, [2]string{kv[0], kv[1]})
		}
	}
	if o.capabilityArgs != "" {
		if err := json.Unmarshal([]byte(o.capabilityArgs), &rt.CapabilityArgs); err != nil {
			return nil, fmt.Errorf("invalid --capability-args: %v", err)
		}
	}
	return rt, nil
}

func main() {
	if len(os.Args) < 2 {
		usage("missing verb")
	}
	verb := os.Args[1]
	switch verb {
	case "add", "check", "del", "validate":
	default:
		usage(fmt.Sprintf("unknown verb %q", verb))
	}
	o := parse(verb, os.Args[2:])
	list, err := libcni.ConfListFromFile(o.conflist)
	if err != nil {
		fail(err)
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(o.binDir), o.cacheDir, nil)
	ctx := context.Background()
	if verb == "validate" {
		caps, err := cni.ValidateNetworkList(ctx, list)
		if err != nil {
			fail(err)
		}
		sort.Strings(caps)
		out, _ := json.Marshal(caps)
		fmt.Println(string(out))
		return
	}
	rt, err := runtimeConf(o)
	if err != nil {
		fail(err)
	}
	switch verb {
	case "add":
		result, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail(err)
		}
		out, err := json.Marshal(result)
		if err != nil {
			fail(err)
		}
		fmt.Println(string(out))
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
	}
}
