// vcsim for nova-vmware's tests: govmomi's vCenter simulator (VPX model) on a loopback port.
//
// Built from Debian's golang-github-vmware-govmomi-dev by nova_vmware/vcsim_fixture.py:
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o vcsim main.go
// Accepts only the -username/-password login. Prints its SDK URL (with that login) as the first line of stdout, then serves until
// stdin is closed, its parent process goes away, or it gets SIGTERM/SIGINT.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "host:port to serve on (port 0 picks a free one)")
	username := flag.String("username", "user", "the only user name vcsim accepts")
	password := flag.String("password", "pass", "that user's password")
	flag.Parse()

	model := simulator.VPX()
	if err := model.Create(); err != nil {
		log.Fatalf("vcsim: cannot create the VPX model: %v", err)
	}
	defer model.Remove()
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*username, *password)}
	server := model.Service.NewServer()
	defer server.Close()
	fmt.Println(server.URL.String())

	done := make(chan string, 3)
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); done <- "stdin closed" }()
	go func() {
		parent := os.Getppid()
		for os.Getppid() == parent {
			time.Sleep(200 * time.Millisecond)
		}
		done <- "parent exited"
	}()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() { done <- (<-signals).String() }()
	log.Printf("vcsim: stopping: %s", <-done)
}
