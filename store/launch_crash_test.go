package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

// The crash test: a helper process (this test binary, re-executed) launches
// a large step and is killed with SIGKILL in the middle; the store is
// reopened and the launch resumed. Every audience member must end with
// exactly one decision and every allowed one with one outbox message, and
// the audit chain must verify.

const (
	crashDBEnv   = "KARTON_LAUNCH_CRASH_DB"
	crashStepEnv = "KARTON_LAUNCH_CRASH_STEP"
)

// TestLaunchCrashHelper is the helper process; it does nothing in a normal
// test run.
func TestLaunchCrashHelper(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("the helper process of TestLaunchSurvivesKill")
	}
	step, err := strconv.ParseUint(os.Getenv(crashStepEnv), 10, 64)
	require.NoError(t, err)
	s, err := Open(path, Options{Now: func() time.Time { return testNow.Add(time.Hour) }})
	require.NoError(t, err)
	out := bufio.NewWriter(os.Stdout)
	_, err = s.Launch(context.Background(), operator, model.StepID(step), LaunchOptions{BatchSize: 100, Progress: func(p LaunchProgress) {
		fmt.Fprintf(out, "decided %d\n", p.Decided)
		out.Flush()
	}})
	require.NoError(t, err)
	fmt.Fprintln(out, "finished")
	out.Flush()
}

func TestLaunchSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a store of 10,000 customers")
	}
	f := newFixture(t, 10000, 21)
	f.approve(t)
	path := f.s.Path()
	require.NoError(t, f.s.Close())

	cmd := exec.Command(os.Args[0], "-test.run=^TestLaunchCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path, crashStepEnv+"="+f.step.ID.String())
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	seen := 0
	for sc.Scan() {
		line := sc.Text()
		require.NotEqual(t, "finished", line, "the helper finished before it could be killed")
		if strings.HasPrefix(line, "decided ") {
			if seen++; seen == 5 {
				// Kill it in the middle of the next batches.
				require.NoError(t, cmd.Process.Kill())
				break
			}
		}
	}
	_ = cmd.Wait()

	s, err := Open(path, Options{Now: func() time.Time { return testNow.Add(2 * time.Hour) }})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	f.s = s
	var before LaunchState
	require.NoError(t, s.View(admin, func(r *Reader) error {
		st, ok, err := r.LaunchState(f.step.ID)
		require.True(t, ok, "the launch had started")
		before = st
		assert.False(t, st.Finished(), "killed in the middle")
		a, d, err := r.CountDecisions(f.step.ID)
		require.NoError(t, err)
		assert.Equal(t, st.Decided, a+d, "the committed batches and the launch state agree")
		assert.GreaterOrEqual(t, st.Decided, 500)
		t.Logf("killed after %d decisions (cursor at customer %d)", st.Decided, st.Cursor)
		step, err := r.Step(f.step.ID)
		assert.Equal(t, model.StepLaunching, step.Status)
		return err
	}))
	v, err := s.VerifyAudit()
	require.NoError(t, err)
	require.True(t, v.OK, "the chain holds after the kill: %+v", v)

	res, err := s.Launch(context.Background(), operator, f.step.ID, LaunchOptions{})
	require.NoError(t, err)
	assert.True(t, res.Resumed)
	assert.True(t, res.Complete)
	assert.Equal(t, before.Decided+res.DecidedNow, res.Audience)
	st := f.checkLaunched(t)
	assert.Equal(t, 9000, st.Decided, "every tenth customer is outside the audience")
	assert.Equal(t, 2, st.Runs)
}
