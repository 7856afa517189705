package helm_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// helmModule is the helm the chart is checked with, built from source through the Go module
// proxy (the machine reaches no other download site); go run caches the built binary.
const helmModule = "helm.sh/helm/v4/cmd/helm@v4.3.2"

const (
	chartDir = "linedesk"
	release  = "rel"
	fullname = "rel-linedesk"
)

var (
	helmOnce sync.Once
	helmErr  error
)

// needHelm skips unless LINEDESK_HELM is set: building helm takes minutes the first time, too
// long for every go test ./... (.ci/run sets it in a step of its own). When the go command cannot
// fetch or build helm the test is skipped, except in CI (CI=true), where that fails.
func needHelm(t *testing.T) {
	t.Helper()
	if os.Getenv("LINEDESK_HELM") == "" {
		t.Skip("renders the chart with helm built by go run " + helmModule + " (minutes the first time): run with LINEDESK_HELM=1, as .ci/run does")
	}
	helmOnce.Do(func() {
		out, err := runHelm(t.TempDir(), "version")
		if err != nil {
			helmErr = fmt.Errorf("go run %s version: %v\n%s", helmModule, err, out)
		}
	})
	if helmErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs helm and the go command could not build it: %v", helmErr)
		}
		t.Skipf("the go command could not fetch or build helm, so the chart is not rendered: %v", helmErr)
	}
}

// runHelm runs helm in this directory with its own empty cache, config and data dirs under home.
func runHelm(home string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", append([]string{"run", helmModule}, args...)...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return append(stdout.Bytes(), stderr.Bytes()...), err
	}
	return stdout.Bytes(), nil
}

// rendered is one helm template output, decoded and validated.
type rendered struct {
	objs []object
}

func (r rendered) all(kind string) []object {
	var out []object
	for _, o := range r.objs {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func (r rendered) get(t *testing.T, kind, name string) any {
	t.Helper()
	for _, o := range r.objs {
		if o.Kind == kind && o.Name == name {
			return o.Obj
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

func (r rendered) has(kind, name string) bool {
	for _, o := range r.objs {
		if o.Kind == kind && o.Name == name {
			return true
		}
	}
	return false
}

func (r rendered) deployment(t *testing.T, component string) *appsv1.Deployment {
	return r.get(t, "Deployment", fullname+"-"+component).(*appsv1.Deployment)
}

func (r rendered) migrate(t *testing.T) *batchv1.Job {
	return r.get(t, "Job", fullname+"-migrate").(*batchv1.Job)
}

func render(t *testing.T, args ...string) rendered {
	t.Helper()
	out, err := runHelm(t.TempDir(), append([]string{"template", release, chartDir, "--namespace", "desk"}, args...)...)
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", args, err, out)
	}
	objs, err := decodeManifests(out)
	if err != nil {
		t.Fatalf("helm template %v renders manifests that do not decode into the Kubernetes types:\n%v", args, err)
	}
	if err := validateManifests(objs); err != nil {
		t.Fatalf("helm template %v renders invalid manifests:\n%v", args, err)
	}
	return rendered{objs: objs}
}

// TestChart lints the chart and renders it with the default values and with the values files in
// linedesk/ci, validates every manifest against the Kubernetes types, and checks what the chart
// promises: probes, hooks, secrets, the variables linedesk reads and nothing else.
func TestChart(t *testing.T) {
	needHelm(t)
	readsEnv := linedeskEnv(t)

	// Each subtest runs helm a few times; go run's checks take most of each run's time, so they
	// run side by side.
	t.Run("lint", func(t *testing.T) {
		t.Parallel()
		for _, values := range []string{"", "ci/everything-values.yaml", "ci/inline-values.yaml"} {
			args := []string{"lint", "--strict", chartDir}
			if values != "" {
				args = append(args, "-f", filepath.Join(chartDir, values))
			}
			if out, err := runHelm(t.TempDir(), args...); err != nil {
				t.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	})

	t.Run("default values", func(t *testing.T) {
		t.Parallel()
		r := render(t)
		checkCommon(t, r, readsEnv)
		if got := kindCounts(r); got != "ConfigMap=1 Deployment=2 Job=1 Service=2" {
			t.Errorf("default values render %s; want only the ConfigMap, the Deployments, the migrate Job and the Services", got)
		}
		for _, c := range []string{"api", "worker"} {
			if d := r.deployment(t, c); d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
				t.Errorf("%s replicas %v, want 2", c, d.Spec.Replicas)
			}
		}
	})

	t.Run("everything on, existing secrets", func(t *testing.T) {
		t.Parallel()
		r := render(t, "-f", filepath.Join(chartDir, "ci/everything-values.yaml"))
		checkCommon(t, r, readsEnv)
		if got := kindCounts(r); got != "ConfigMap=1 Deployment=2 HorizontalPodAutoscaler=2 Ingress=1 Job=1 PodDisruptionBudget=2 Service=2" {
			t.Errorf("rendered %s", got)
		}
		if len(r.all("Secret")) != 0 {
			t.Error("every secret comes from an existingSecret, yet the chart renders a Secret")
		}
		for _, c := range []string{"api", "worker"} {
			if d := r.deployment(t, c); d.Spec.Replicas != nil {
				t.Errorf("%s: replicas %d set while its HorizontalPodAutoscaler owns the count", c, *d.Spec.Replicas)
			}
			h := r.get(t, "HorizontalPodAutoscaler", fullname+"-"+c).(*autoscalingv2.HorizontalPodAutoscaler)
			if h.Spec.ScaleTargetRef.Name != fullname+"-"+c {
				t.Errorf("the %s autoscaler scales %s", c, h.Spec.ScaleTargetRef.Name)
			}
		}
		api := r.deployment(t, "api").Spec.Template.Spec
		if env := envOf(api.Containers[0]); env["DATABASE_URL"] != "secret linedesk-db/url" || env["LINEDESK_SECRETS_KEY"] != "secret linedesk-keys/LINEDESK_SECRETS_KEY" ||
			env["TEMPORAL_API_KEY"] != "secret linedesk-temporal/api-key" || env["LINEDESK_METRICS_TOKEN"] != "secret linedesk-metrics/token" {
			t.Errorf("api's secrets do not come from the existing Secrets: %v", env)
		}
		if l := api.Containers[0].Lifecycle; l == nil || l.PreStop == nil || l.PreStop.Sleep == nil || l.PreStop.Sleep.Seconds != 5 {
			t.Error("api.preStopSleepSeconds: 5 renders no preStop sleep")
		}
		worker := envOf(r.deployment(t, "worker").Spec.Template.Spec.Containers[0])
		if worker["LINEDESK_SMTP_HOST"] != "smtp.example.com" || worker["LINEDESK_SMTP_PASSWORD"] != "secret linedesk-smtp/password" || worker["LINEDESK_WORKFLOW_CACHE"] != "2000" {
			t.Errorf("worker's mail and cache settings: %v", worker)
		}
		if _, ok := envOf(api.Containers[0])["LINEDESK_SMTP_HOST"]; ok {
			t.Error("api gets mail settings; only the worker sends mail")
		}
		cm := r.get(t, "ConfigMap", fullname).(*corev1.ConfigMap)
		for k, want := range map[string]string{
			"TEMPORAL_TLS":                     "true",
			"TEMPORAL_TLS_CLIENT_CERT_PATH":    "/etc/linedesk/temporal-tls/client.crt",
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "/etc/linedesk/temporal-tls/ca.crt",
			"LINEDESK_PUBLIC_URL":              "https://desk.example.com",
		} {
			if cm.Data[k] != want {
				t.Errorf("ConfigMap %s = %q, want %q", k, cm.Data[k], want)
			}
		}
		if !mounts(api, "temporal-tls", "/etc/linedesk/temporal-tls") {
			t.Error("the Temporal client certificate is not mounted where TEMPORAL_TLS_CLIENT_CERT_PATH points")
		}
		job := r.migrate(t)
		if env := envOf(job.Spec.Template.Spec.Containers[0]); env["LINEDESK_ADMIN_PASSWORD"] != "secret linedesk-admin/password" || env["LINEDESK_ADMIN_EMAIL"] != "owner@example.com" ||
			!strings.HasPrefix(env["LINEDESK_STORAGE_URL"], "s3://") {
			t.Errorf("migrate's environment: %v", env)
		}
		ing := r.get(t, "Ingress", fullname).(*networkingv1.Ingress)
		if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" || len(ing.Spec.Rules) != 2 || len(ing.Spec.TLS) != 1 {
			t.Errorf("ingress class, hosts or TLS not as configured: %+v", ing.Spec)
		}
		// Every path linedesk serves to the outside world goes to the api, on every host.
		want := []string{"Prefix /hooks", "Exact /widget.js", "Prefix /widget", "Prefix /kb", "Prefix /api/v1/files", "Prefix /api", "Prefix /"}
		for _, rule := range ing.Spec.Rules {
			var got []string
			for _, p := range rule.HTTP.Paths {
				got = append(got, string(*p.PathType)+" "+p.Path)
				if p.Backend.Service.Name != fullname+"-api" {
					t.Errorf("%s %s goes to %s", rule.Host, p.Path, p.Backend.Service.Name)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s routes %v, want %v", rule.Host, got, want)
			}
		}
	})

	t.Run("inline secrets and a volume", func(t *testing.T) {
		t.Parallel()
		r := render(t, "-f", filepath.Join(chartDir, "ci/inline-values.yaml"))
		checkCommon(t, r, readsEnv)
		shared := r.get(t, "Secret", fullname).(*corev1.Secret)
		if got, want := sortedKeys(shared.Data), []string{"DATABASE_URL", "LINEDESK_METRICS_TOKEN", "LINEDESK_SECRETS_KEY", "LINEDESK_SECRETS_OLD_KEYS", "LINEDESK_SMTP_PASSWORD", "LINEDESK_SMTP_USERNAME"}; !slices.Equal(got, want) {
			t.Errorf("the release's Secret holds %v, want %v", got, want)
		}
		if string(shared.Data["DATABASE_URL"]) != "postgres://linedesk:secret@postgres.db:5432/linedesk?sslmode=require" {
			t.Errorf("DATABASE_URL in the Secret: %q", shared.Data["DATABASE_URL"])
		}
		hook := r.get(t, "Secret", fullname+"-migrate").(*corev1.Secret)
		if got, want := sortedKeys(hook.Data), []string{"DATABASE_URL", "LINEDESK_ADMIN_PASSWORD", "LINEDESK_SECRETS_KEY", "LINEDESK_SECRETS_OLD_KEYS"}; !slices.Equal(got, want) {
			t.Errorf("the migrate hook's Secret holds %v, want %v", got, want)
		}
		// The hook Secret exists before the Job (lower weight) and goes once it succeeded.
		if a := hook.Annotations; a["helm.sh/hook"] != "pre-install,pre-upgrade" || a["helm.sh/hook-weight"] != "-10" ||
			a["helm.sh/hook-delete-policy"] != "before-hook-creation,hook-succeeded" {
			t.Errorf("migrate Secret's hook annotations: %v", a)
		}
		job := r.migrate(t)
		if env := envOf(job.Spec.Template.Spec.Containers[0]); env["DATABASE_URL"] != "secret "+fullname+"-migrate/DATABASE_URL" || env["LINEDESK_ADMIN_PASSWORD"] != "secret "+fullname+"-migrate/LINEDESK_ADMIN_PASSWORD" {
			t.Errorf("migrate reads its secrets from %v", env)
		}
		if !r.has("PersistentVolumeClaim", fullname+"-files") {
			t.Fatal("storage.persistence.enabled renders no PersistentVolumeClaim")
		}
		for _, c := range []string{"api", "worker"} {
			if !mounts(r.deployment(t, c).Spec.Template.Spec, "files", "/var/lib/linedesk/files") {
				t.Errorf("%s does not mount the attachment volume", c)
			}
		}
		if got := r.get(t, "ConfigMap", fullname).(*corev1.ConfigMap).Data["LINEDESK_STORAGE_URL"]; got != "file:///var/lib/linedesk/files" {
			t.Errorf("LINEDESK_STORAGE_URL %q", got)
		}
		// On a first install the claim does not exist yet when the pre-install hook runs.
		spec := job.Spec.Template.Spec
		if mounts(spec, "files", "/var/lib/linedesk/files") || envOf(spec.Containers[0])["LINEDESK_STORAGE_URL"] != "" {
			t.Error("the migrate Job of a first install mounts the claim the same install creates")
		}
		if _, ok := envOf(r.deployment(t, "api").Spec.Template.Spec.Containers[0])["LINEDESK_ADMIN_PASSWORD"]; ok {
			t.Error("api gets the first admin's password; only migrate needs it")
		}
	})

	t.Run("inline secrets and a volume, upgrade", func(t *testing.T) {
		t.Parallel()
		r := render(t, "-f", filepath.Join(chartDir, "ci/inline-values.yaml"), "--is-upgrade")
		checkCommon(t, r, readsEnv)
		spec := r.migrate(t).Spec.Template.Spec
		if !mounts(spec, "files", "/var/lib/linedesk/files") || envOf(spec.Containers[0])["LINEDESK_STORAGE_URL"] != "file:///var/lib/linedesk/files" {
			t.Error("on upgrades the migrate Job should mount the attachment volume and name it in LINEDESK_STORAGE_URL")
		}
	})

	t.Run("refused values", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct{ set, want string }{
			{"smtp.host=smtp.example.com", "smtp.host needs smtp.from"},
			{"api.autoscaling.enabled=true,api.autoscaling.maxReplicas=1", "api.autoscaling.maxReplicas (1) is below minReplicas (2)"},
			{"storage.url=/var/files", "is not s3://bucket/prefix?endpoint=... or file:///dir"},
			{"ingress.enabled=true,ingress.hosts=null", "ingress.enabled needs at least one host"},
		} {
			out, err := runHelm(t.TempDir(), "template", release, chartDir, "--set", c.set)
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Errorf("--set %s: want a failure saying %q, got %v:\n%s", c.set, c.want, err, out)
			}
		}
	})

	t.Run("notes", func(t *testing.T) {
		t.Parallel()
		out, err := runHelm(t.TempDir(), "install", release, chartDir, "--dry-run=client", "--namespace", "desk")
		if err != nil {
			t.Fatalf("helm install --dry-run=client: %v\n%s", err, out)
		}
		notes := string(out[bytes.Index(out, []byte("NOTES:")):])
		for _, want := range []string{"database.url or database.existingSecret", "secrets.key or secrets.existingSecret", "storage.url or storage.persistence.enabled", "kubectl -n desk logs job/" + fullname + "-migrate"} {
			if !strings.Contains(notes, want) {
				t.Errorf("NOTES for the default values do not say %q:\n%s", want, notes)
			}
		}
		out, err = runHelm(t.TempDir(), "install", release, chartDir, "--dry-run=client", "-f", filepath.Join(chartDir, "ci/inline-values.yaml"))
		if err != nil {
			t.Fatalf("helm install --dry-run=client: %v\n%s", err, out)
		}
		if bytes.Contains(out, []byte("WARNING")) {
			t.Errorf("NOTES warn although every required setting is given:\n%s", out[bytes.Index(out, []byte("NOTES:")):])
		}
	})
}

// checkCommon checks what every rendering must hold.
func checkCommon(t *testing.T, r rendered, readsEnv map[string]bool) {
	t.Helper()
	ports := map[string]int32{"api": 8080, "worker": 8081}
	for _, c := range []string{"api", "worker"} {
		d := r.deployment(t, c)
		spec := d.Spec.Template.Spec
		if len(spec.Containers) != 1 {
			t.Fatalf("%s has %d containers", c, len(spec.Containers))
		}
		ctr := spec.Containers[0]
		if !slices.Equal(ctr.Args, []string{c}) {
			t.Errorf("%s runs linedesk %v", c, ctr.Args)
		}
		if len(ctr.Ports) != 1 || ctr.Ports[0].Name != "http" || ctr.Ports[0].ContainerPort != ports[c] {
			t.Errorf("%s ports %v", c, ctr.Ports)
		}
		if got, want := envOf(ctr)["LINEDESK_HTTP_ADDR"], fmt.Sprintf("0.0.0.0:%d", ports[c]); got != want {
			t.Errorf("%s listens on %q, but its port is %s", c, got, want)
		}
		for name, p := range map[string]*corev1.Probe{"startup": ctr.StartupProbe, "liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe} {
			want := "/healthz"
			if name == "readiness" {
				want = "/readyz"
			}
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want || p.HTTPGet.Port != intstr.FromString("http") {
				t.Errorf("%s %s probe is not GET %s on port http: %+v", c, name, want, p)
			}
		}
		// /readyz waits up to 2 s for PostgreSQL and Temporal.
		if ctr.ReadinessProbe.TimeoutSeconds < 3 {
			t.Errorf("%s readiness timeout %d s is shorter than /readyz's own 2 s", c, ctr.ReadinessProbe.TimeoutSeconds)
		}
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := ctr.Resources.Requests[res]; !ok {
				t.Errorf("%s requests no %s (HPAs scale on requests)", c, res)
			}
			if _, ok := ctr.Resources.Limits[res]; !ok {
				t.Errorf("%s has no %s limit", c, res)
			}
		}
		checkHardened(t, c, spec)
		if !mounts(spec, "tmp", "/tmp") {
			t.Errorf("%s has no writable /tmp under its read-only root", c)
		}
		if spec.Containers[0].EnvFrom[0].ConfigMapRef.Name != fullname {
			t.Errorf("%s does not read the ConfigMap", c)
		}
		if d.Spec.Template.Annotations["checksum/config"] == "" || d.Spec.Template.Annotations["checksum/secret"] == "" {
			t.Errorf("%s pods do not restart when settings change (no checksum annotations)", c)
		}
		checkEnvNames(t, c, ctr, readsEnv)
		svc := r.get(t, "Service", fullname+"-"+c).(*corev1.Service)
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != intstr.FromString("http") {
			t.Errorf("Service %s ports %v", svc.Name, svc.Spec.Ports)
		}
	}
	job := r.migrate(t)
	if a := job.Annotations; a["helm.sh/hook"] != "pre-install,pre-upgrade" || a["helm.sh/hook-weight"] != "0" {
		t.Errorf("migrate Job hook annotations %v", a)
	}
	ctr := job.Spec.Template.Spec.Containers[0]
	if !slices.Equal(ctr.Args, []string{"migrate"}) {
		t.Errorf("the migrate Job runs linedesk %v", ctr.Args)
	}
	checkHardened(t, "migrate", job.Spec.Template.Spec)
	checkEnvNames(t, "migrate", ctr, readsEnv)
	cm := r.get(t, "ConfigMap", fullname).(*corev1.ConfigMap)
	for k := range cm.Data {
		if !readsEnv[k] {
			t.Errorf("the ConfigMap sets %s, which linedesk does not read", k)
		}
	}
	for _, o := range r.all("Secret") {
		for k := range o.Obj.(*corev1.Secret).Data {
			if !readsEnv[k] {
				t.Errorf("Secret %s holds %s, which linedesk does not read", o.Name, k)
			}
		}
	}
}

func checkHardened(t *testing.T, component string, spec corev1.PodSpec) {
	t.Helper()
	sc := spec.Containers[0].SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s container is not read-only and unprivileged: %+v", component, sc)
	}
	if ps := spec.SecurityContext; ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser != 65532 {
		t.Errorf("%s pod does not run as the image's nonroot user: %+v", component, ps)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s pod mounts a service account token linedesk never uses", component)
	}
}

// checkEnvNames fails for a variable linedesk does not read.
func checkEnvNames(t *testing.T, component string, c corev1.Container, readsEnv map[string]bool) {
	t.Helper()
	for _, e := range c.Env {
		if !readsEnv[e.Name] {
			t.Errorf("%s sets %s, which linedesk does not read", component, e.Name)
		}
	}
}

// linedeskEnv is every environment variable linedesk reads, from its sources: its own in
// cmd/linedesk/config.go, the S3 keys in blobstore, and the Temporal SDK's in envconfig.
func linedeskEnv(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	grep := func(file string, re *regexp.Regexp) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := re.FindAllSubmatch(src, -1)
		if len(found) == 0 {
			t.Fatalf("no variables found in %s with %s", file, re)
		}
		for _, m := range found {
			names[string(m[1])] = true
		}
	}
	grep("../../cmd/linedesk/config.go", regexp.MustCompile(`(?:env|lookupEnv)\("([A-Z][A-Z0-9_]*)"`))
	grep("../../blobstore/blobstore.go", regexp.MustCompile(`os\.Getenv\("([A-Z][A-Z0-9_]*)"\)`))
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk/contrib/envconfig").Output()
	if err != nil {
		t.Fatalf("go list -m go.temporal.io/sdk/contrib/envconfig: %v", err)
	}
	grep(filepath.Join(strings.TrimSpace(string(out)), "client_config_load.go"), regexp.MustCompile(`LookupEnv\("(TEMPORAL_[A-Z0-9_]+)"\)`))
	for _, must := range []string{"DATABASE_URL", "LINEDESK_SECRETS_KEY", "LINEDESK_STORAGE_URL", "AWS_ACCESS_KEY_ID", "TEMPORAL_ADDRESS", "TEMPORAL_API_KEY"} {
		if !names[must] {
			t.Fatalf("%s not found in the sources; is the pattern out of date?", must)
		}
	}
	return names
}

// envOf maps each variable to its value, or to "secret NAME/KEY" when it comes from a Secret.
func envOf(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			m[e.Name] = "secret " + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		case e.ValueFrom != nil:
			m[e.Name] = "valueFrom"
		default:
			m[e.Name] = e.Value
		}
	}
	return m
}

// mounts reports whether the pod's first container mounts the volume at dir.
func mounts(spec corev1.PodSpec, volume, dir string) bool {
	for _, m := range spec.Containers[0].VolumeMounts {
		if m.Name == volume && m.MountPath == dir {
			return slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == volume })
		}
	}
	return false
}

func kindCounts(r rendered) string {
	counts := map[string]int{}
	for _, o := range r.objs {
		counts[o.Kind]++
	}
	var parts []string
	for _, k := range sortedKeys(counts) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	return strings.Join(parts, " ")
}
