// Command action is a blackbox action for the Docker backend's tests: it
// speaks the OpenWhisk action protocol on :8080 and, on request, logs,
// allocates memory, or starts processes until the pids limit stops it.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"
)

const sentinel = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		time.Sleep(time.Minute) // a child of the fork test; killed with its container
		return
	}
	http.HandleFunc("POST /init", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"ok":true}`)
	})
	http.HandleFunc("POST /run", run)
	if err := http.ListenAndServe(":8080", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(w http.ResponseWriter, r *http.Request) {
	defer fmt.Fprintln(os.Stderr, sentinel)
	defer fmt.Println(sentinel)
	var body struct {
		Value struct {
			Log      string `json:"log"`
			HogMB    int    `json:"hogMB"`
			Children int    `json:"children"`
			SleepMS  int    `json:"sleepMS"`
		} `json:"value"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":%q}`, err.Error())
		return
	}
	v := body.Value
	if v.Log != "" {
		fmt.Println(v.Log)
		fmt.Fprintln(os.Stderr, "err:", v.Log)
	}
	time.Sleep(time.Duration(v.SleepMS) * time.Millisecond)
	if v.HogMB > 0 {
		hog := make([][]byte, 0, v.HogMB)
		for range v.HogMB {
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = 1
			}
			hog = append(hog, b)
		}
		fmt.Fprintf(w, `{"allocatedMB":%d}`, len(hog))
		return
	}
	started := 0
	for range v.Children {
		if err := exec.Command("/action", "child").Start(); err != nil {
			break
		}
		started++
	}
	fmt.Fprintf(w, `{"pid":%d,"uid":%d,"started":%d}`, os.Getpid(), os.Getuid(), started)
}
