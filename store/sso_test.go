package store_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// TestSSOFirstSignInsAtOnceMakeOneUser: two first sign-ins of one person at the same moment (two
// tabs, two replicas) make one user, and only one of them says it made them.
func TestSSOFirstSignInsAtOnceMakeOneUser(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := t.Context()
	_, err := st.SaveGroup(ctx, store.Group{Name: "Support operators", Kind: store.GroupOperators})
	require.NoError(t, err)
	in := store.SSOSignIn{Email: "vera@example.com", Name: "Vera", Role: store.RoleOperator,
		Groups: []string{"Support operators"}, Managed: []string{"Support operators", "Absent"}}
	const n = 4
	outs := make([]store.SSOOutcome, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { outs[i], errs[i] = st.SignInWithSSO(ctx, in) })
	}
	wg.Wait()
	created := 0
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, outs[0].User.ID, outs[i].User.ID)
		require.Equal(t, []string{"Absent"}, outs[i].UnknownGroups)
		require.Equal(t, []string{"Support operators"}, outs[i].After.Groups)
		if outs[i].Created {
			created++
		}
	}
	require.Equal(t, 1, created)
	users, err := st.ListUsers(ctx)
	require.NoError(t, err)
	require.Len(t, users, 1)
}
