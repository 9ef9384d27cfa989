package main

import (
	"context"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
)

// The background dispatcher: `karton serve` runs one as a service and the
// local cockpit (`karton`, `karton demo`) runs one beside the program, so
// that launched messages go out without anyone running `karton dispatch`.
// Both act as dispatcherActor; the store's claims and leases keep two
// dispatchers on one store from sending a message twice.

// dispatchTaskID names the dispatcher's task in the status bar.
const dispatchTaskID = "dispatch"

// dispatcherActor is who sends in the background: the messages were
// launched by people allowed to, and sending is the second half of their
// launch. via says where it runs ("serve", "cockpit").
func dispatcherActor(via string) model.Actor {
	return model.Actor{Name: "dispatcher", Role: model.RoleOperator, Via: via}
}

// dispatchWorker configures a background dispatcher.
type dispatchWorker struct {
	st  *store.Store
	via string
	// linkBase is the fallback public address of the return channel
	// (DispatcherOptions.LinkBase); "" for none.
	linkBase string
	// notify receives the status-bar messages: TaskStartedMsg when a run
	// finds messages due, TaskProgressMsg after each batch, TaskEndedMsg
	// when the run is done, and a ToastMsg when messages failed for good.
	notify func(tea.Msg)
	// onBatch and onError, when set, are told about each batch and each
	// failed run (the server logs them).
	onBatch func(store.DispatchReport)
	onError func(error)
}

// run dispatches until ctx ends, then closes the connectors. It returns
// after the batch in flight.
func (w dispatchWorker) run(ctx context.Context) error {
	notify := w.notify
	if notify == nil {
		notify = func(tea.Msg) {}
	}
	var run store.DispatchReport
	opts := store.DispatcherOptions{
		LinkBase: w.linkBase,
		OnRunStarted: func() {
			run = store.DispatchReport{}
			notify(common.TaskStartedMsg{ID: dispatchTaskID, Label: "dispatch: sending"})
		},
		OnBatch: func(r store.DispatchReport) {
			run.Sent += r.Sent
			run.Suppressed += r.Suppressed
			run.Dead += r.Dead
			notify(common.TaskProgressMsg{ID: dispatchTaskID, Label: dispatchTaskLabel(run)})
			if w.onBatch != nil {
				w.onBatch(r)
			}
		},
		OnRunEnded: func(r store.DispatchReport) {
			notify(common.TaskEndedMsg{ID: dispatchTaskID})
			if r.Dead > 0 {
				notify(common.ToastMsg{What: "dispatch", Err: fmt.Errorf("%d messages failed for good and wait as dead letters (`karton outbox list --status dead`)", r.Dead)})
			}
		},
		OnError: func(err error) {
			if w.onError != nil {
				w.onError(err)
			}
			notify(common.ToastMsg{What: "dispatch", Err: err})
		},
	}
	d, err := store.NewDispatcher(w.st, dispatcherActor(w.via), opts)
	if err != nil {
		return err
	}
	err = d.Run(ctx)
	return errors.Join(err, d.Close())
}

func dispatchTaskLabel(r store.DispatchReport) string {
	s := fmt.Sprintf("dispatch: %d sent", r.Sent)
	if r.Suppressed > 0 {
		s += fmt.Sprintf(", %d suppressed", r.Suppressed)
	}
	if r.Dead > 0 {
		s += fmt.Sprintf(", %d dead", r.Dead)
	}
	return s
}
