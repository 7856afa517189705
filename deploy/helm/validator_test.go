// Package helm_test checks the Helm chart in deploy/helm/linedesk: chart_test.go renders it with
// helm and this file validates what it renders against the Kubernetes API types.
//
// kubeconform cannot fetch its JSON schemas here (no network), so the validator decodes every
// rendered document strictly into the typed objects of k8s.io/api, the way the API server does
// with strict field validation: an unknown or misspelt field, a duplicate key or a value of the
// wrong type is an error. On top of the types it checks what the OpenAPI schema and the API
// server's validation require of the kinds the chart renders, and that the objects fit together:
// selectors match the pods they select, probes and Services name ports the containers have,
// Ingress backends and HPA targets exist, and secret keys the chart itself creates are there.
package helm_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// object is one decoded manifest.
type object struct {
	Source string // the "# Source: chart/templates/x.yaml" comment helm template writes, if any
	Kind   string
	Name   string
	Obj    any // a pointer to the typed object
}

func (o object) String() string {
	s := o.Kind + " " + o.Name
	if o.Source != "" {
		s += " (" + o.Source + ")"
	}
	return s
}

// kinds are the apiVersion/kind pairs the validator knows; any other is an error, so that a new
// kind in the chart gets its checks here.
var kinds = map[string]func() any{
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/PersistentVolumeClaim":               func() any { return &corev1.PersistentVolumeClaim{} },
	"v1/ServiceAccount":                      func() any { return &corev1.ServiceAccount{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                           func() any { return &batchv1.Job{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/Ingress":           func() any { return &networkingv1.Ingress{} },
}

// decodeManifests splits a multi-document YAML stream and decodes each document strictly into
// its typed object. Empty documents (only comments) are skipped.
func decodeManifests(stream []byte) ([]object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var objs []object
	var errs []error
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		source := ""
		for _, line := range strings.Split(string(doc), "\n") {
			if s, ok := strings.CutPrefix(line, "# Source: "); ok {
				source = s
				break
			}
		}
		where := fmt.Sprintf("document %d", n)
		if source != "" {
			where += " (" + source + ")"
		}
		// Duplicate keys are an error here, as they are for the API server.
		j, err := sigsyaml.YAMLToJSONStrict(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			continue
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(j, &tm); err != nil {
			errs = append(errs, fmt.Errorf("%s: not an object: %w", where, err))
			continue
		}
		newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: apiVersion %q kind %q is not a kind the validator knows (add it to kinds with its checks)", where, tm.APIVersion, tm.Kind))
			continue
		}
		obj := newObj()
		// Case-sensitive, like the API server: "ContainerPort" is not "containerPort".
		strict, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", where, tm.Kind, err))
			continue
		}
		for _, e := range strict {
			errs = append(errs, fmt.Errorf("%s: %s: %w", where, tm.Kind, e))
		}
		name := ""
		if m, ok := obj.(metav1.Object); ok {
			name = m.GetName()
		}
		objs = append(objs, object{Source: source, Kind: tm.Kind, Name: name, Obj: obj})
	}
	return objs, errors.Join(errs...)
}

// validateManifests checks the decoded objects one by one and against each other.
func validateManifests(objs []object) error {
	v := &validator{
		services:    map[string]*corev1.Service{},
		deployments: map[string]*appsv1.Deployment{},
		secrets:     map[string]*corev1.Secret{},
		configMaps:  map[string]*corev1.ConfigMap{},
		claims:      map[string]bool{},
	}
	seen := map[string]bool{}
	for _, o := range objs {
		if key := o.Kind + "/" + o.Name; seen[key] {
			v.errorf(o, "metadata.name", "a second %s named %q", o.Kind, o.Name)
		}
		seen[o.Kind+"/"+o.Name] = true
		switch x := o.Obj.(type) {
		case *corev1.Service:
			v.services[x.Name] = x
		case *appsv1.Deployment:
			v.deployments[x.Name] = x
		case *corev1.Secret:
			v.secrets[x.Name] = x
		case *corev1.ConfigMap:
			v.configMaps[x.Name] = x
		case *corev1.PersistentVolumeClaim:
			v.claims[x.Name] = true
		}
	}
	for _, o := range objs {
		v.check(o)
	}
	return errors.Join(v.errs...)
}

type validator struct {
	services    map[string]*corev1.Service
	deployments map[string]*appsv1.Deployment
	secrets     map[string]*corev1.Secret
	configMaps  map[string]*corev1.ConfigMap
	claims      map[string]bool
	errs        []error
}

func (v *validator) errorf(o object, at string, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s: %s", o, at, fmt.Sprintf(format, args...)))
}

func (v *validator) fieldErrors(o object, list field.ErrorList) {
	for _, e := range list {
		v.errs = append(v.errs, fmt.Errorf("%s: %s", o, e.Error()))
	}
}

func (v *validator) messages(o object, at string, msgs []string) {
	for _, m := range msgs {
		v.errorf(o, at, "%s", m)
	}
}

func (v *validator) check(o object) {
	meta := o.Obj.(metav1.Object)
	om := metav1.ObjectMeta{Name: meta.GetName(), GenerateName: meta.GetGenerateName(), Labels: meta.GetLabels(), Annotations: meta.GetAnnotations()}
	nameFn := apivalidation.NameIsDNSSubdomain
	if o.Kind == "Service" {
		nameFn = apivalidation.NameIsDNS1035Label
	}
	v.fieldErrors(o, apivalidation.ValidateObjectMeta(&om, false, nameFn, field.NewPath("metadata")))

	switch x := o.Obj.(type) {
	case *corev1.ConfigMap:
		for k := range x.Data {
			v.messages(o, "data."+k, validation.IsConfigMapKey(k))
			if _, ok := x.BinaryData[k]; ok {
				v.errorf(o, "data."+k, "also in binaryData")
			}
		}
		for k := range x.BinaryData {
			v.messages(o, "binaryData."+k, validation.IsConfigMapKey(k))
		}
	case *corev1.Secret:
		for k := range x.Data {
			v.messages(o, "data."+k, validation.IsConfigMapKey(k))
		}
		for k := range x.StringData {
			v.messages(o, "stringData."+k, validation.IsConfigMapKey(k))
		}
	case *corev1.ServiceAccount:
	case *corev1.PersistentVolumeClaim:
		v.checkClaim(o, x)
	case *corev1.Service:
		v.checkService(o, x)
	case *appsv1.Deployment:
		v.checkDeployment(o, x)
	case *batchv1.Job:
		v.checkJob(o, x)
	case *autoscalingv2.HorizontalPodAutoscaler:
		v.checkHPA(o, x)
	case *policyv1.PodDisruptionBudget:
		v.checkPDB(o, x)
	case *networkingv1.Ingress:
		v.checkIngress(o, x)
	default:
		v.errorf(o, "kind", "no checks for %T", x)
	}
}

func (v *validator) checkClaim(o object, c *corev1.PersistentVolumeClaim) {
	if len(c.Spec.AccessModes) == 0 {
		v.errorf(o, "spec.accessModes", "required")
	}
	for i, m := range c.Spec.AccessModes {
		switch m {
		case corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod:
		default:
			v.errorf(o, fmt.Sprintf("spec.accessModes[%d]", i), "unsupported %q", m)
		}
	}
	if q, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; !ok || q.Sign() <= 0 {
		v.errorf(o, "spec.resources.requests.storage", "required and above zero")
	}
}

// checkPodSpec checks the spec of a Deployment's or Job's pods.
func (v *validator) checkPodSpec(o object, at string, spec *corev1.PodSpec, jobPod bool) {
	p := func(s string) string { return at + "." + s }
	switch {
	case jobPod && spec.RestartPolicy != corev1.RestartPolicyNever && spec.RestartPolicy != corev1.RestartPolicyOnFailure:
		v.errorf(o, p("restartPolicy"), "a Job's pods need Never or OnFailure, not %q", spec.RestartPolicy)
	case !jobPod && spec.RestartPolicy != "" && spec.RestartPolicy != corev1.RestartPolicyAlways:
		v.errorf(o, p("restartPolicy"), "a Deployment's pods need Always, not %q", spec.RestartPolicy)
	}
	if spec.ServiceAccountName != "" {
		v.messages(o, p("serviceAccountName"), validation.IsDNS1123Subdomain(spec.ServiceAccountName))
	}
	for i, s := range spec.ImagePullSecrets {
		if s.Name == "" {
			v.errorf(o, p(fmt.Sprintf("imagePullSecrets[%d].name", i)), "required")
		}
	}
	if sc := spec.SecurityContext; sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		v.errorf(o, p("securityContext"), "runAsNonRoot with runAsUser 0 never starts")
	}
	volumes := map[string]corev1.Volume{}
	for i, vol := range spec.Volumes {
		vp := p(fmt.Sprintf("volumes[%d]", i))
		v.messages(o, vp+".name", validation.IsDNS1123Label(vol.Name))
		if _, dup := volumes[vol.Name]; dup {
			v.errorf(o, vp+".name", "duplicate volume %q", vol.Name)
		}
		volumes[vol.Name] = vol
		v.checkVolumeSource(o, vp, vol.VolumeSource)
	}
	if len(spec.Containers) == 0 {
		v.errorf(o, p("containers"), "required: at least one container")
	}
	names := map[string]bool{}
	for i, c := range spec.InitContainers {
		v.checkContainer(o, p(fmt.Sprintf("initContainers[%d]", i)), &c, volumes, names)
	}
	for i, c := range spec.Containers {
		v.checkContainer(o, p(fmt.Sprintf("containers[%d]", i)), &c, volumes, names)
	}
	for i, t := range spec.Tolerations {
		tp := p(fmt.Sprintf("tolerations[%d]", i))
		switch t.Operator {
		case "", corev1.TolerationOpEqual:
			if t.Key == "" {
				v.errorf(o, tp+".key", "required with operator Equal")
			}
		case corev1.TolerationOpExists:
			if t.Value != "" {
				v.errorf(o, tp+".value", "must be empty with operator Exists")
			}
		default:
			v.errorf(o, tp+".operator", "unsupported %q", t.Operator)
		}
		switch t.Effect {
		case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			v.errorf(o, tp+".effect", "unsupported %q", t.Effect)
		}
	}
	for i, t := range spec.TopologySpreadConstraints {
		tp := p(fmt.Sprintf("topologySpreadConstraints[%d]", i))
		if t.MaxSkew <= 0 {
			v.errorf(o, tp+".maxSkew", "must be above zero")
		}
		if t.TopologyKey == "" {
			v.errorf(o, tp+".topologyKey", "required")
		}
		if t.WhenUnsatisfiable != corev1.DoNotSchedule && t.WhenUnsatisfiable != corev1.ScheduleAnyway {
			v.errorf(o, tp+".whenUnsatisfiable", "DoNotSchedule or ScheduleAnyway, not %q", t.WhenUnsatisfiable)
		}
		v.fieldErrors(o, metav1validation.ValidateLabelSelector(t.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath(tp+".labelSelector")))
	}
}

func (v *validator) checkVolumeSource(o object, at string, s corev1.VolumeSource) {
	n := 0
	if s.EmptyDir != nil {
		n++
	}
	if s.Secret != nil {
		n++
		if s.Secret.SecretName == "" {
			v.errorf(o, at+".secret.secretName", "required")
		}
		if sec, ok := v.secrets[s.Secret.SecretName]; ok && (s.Secret.Optional == nil || !*s.Secret.Optional) {
			for i, it := range s.Secret.Items {
				if !secretHasKey(sec, it.Key) {
					v.errorf(o, fmt.Sprintf("%s.secret.items[%d].key", at, i), "the chart's Secret %s has no key %q", sec.Name, it.Key)
				}
			}
		}
		v.checkKeyPaths(o, at+".secret.items", s.Secret.Items, s.Secret.DefaultMode)
	}
	if s.ConfigMap != nil {
		n++
		if s.ConfigMap.Name == "" {
			v.errorf(o, at+".configMap.name", "required")
		}
		v.checkKeyPaths(o, at+".configMap.items", s.ConfigMap.Items, s.ConfigMap.DefaultMode)
	}
	if s.PersistentVolumeClaim != nil {
		n++
		if s.PersistentVolumeClaim.ClaimName == "" {
			v.errorf(o, at+".persistentVolumeClaim.claimName", "required")
		}
	}
	if s.Projected != nil {
		n++
	}
	if s.HostPath != nil {
		n++
	}
	if n != 1 {
		v.errorf(o, at, "exactly one volume source (emptyDir, secret, configMap, persistentVolumeClaim, projected, hostPath), found %d", n)
	}
}

func (v *validator) checkKeyPaths(o object, at string, items []corev1.KeyToPath, mode *int32) {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		v.errorf(o, at, "defaultMode %o is not a file mode", *mode)
	}
	for i, it := range items {
		if it.Key == "" {
			v.errorf(o, fmt.Sprintf("%s[%d].key", at, i), "required")
		}
		if it.Path == "" || path.IsAbs(it.Path) || slices.Contains(strings.Split(it.Path, "/"), "..") {
			v.errorf(o, fmt.Sprintf("%s[%d].path", at, i), "a relative path without '..', not %q", it.Path)
		}
	}
}

func secretHasKey(s *corev1.Secret, key string) bool {
	if _, ok := s.Data[key]; ok {
		return true
	}
	_, ok := s.StringData[key]
	return ok
}

func (v *validator) checkContainer(o object, at string, c *corev1.Container, volumes map[string]corev1.Volume, names map[string]bool) {
	p := func(s string) string { return at + "." + s }
	if c.Name == "" {
		v.errorf(o, p("name"), "required")
	} else {
		v.messages(o, p("name"), validation.IsDNS1123Label(c.Name))
		if names[c.Name] {
			v.errorf(o, p("name"), "duplicate container name %q", c.Name)
		}
		names[c.Name] = true
	}
	if strings.TrimSpace(c.Image) == "" || strings.ContainsAny(c.Image, " \t\n") {
		v.errorf(o, p("image"), "required, without spaces: %q", c.Image)
	}
	switch c.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		v.errorf(o, p("imagePullPolicy"), "Always, IfNotPresent or Never, not %q", c.ImagePullPolicy)
	}
	ports := map[string]int32{}
	numbers := map[int32]bool{}
	for i, port := range c.Ports {
		pp := p(fmt.Sprintf("ports[%d]", i))
		v.messages(o, pp+".containerPort", validation.IsValidPortNum(int(port.ContainerPort)))
		switch port.Protocol {
		case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			v.errorf(o, pp+".protocol", "TCP, UDP or SCTP, not %q", port.Protocol)
		}
		if port.Name != "" {
			v.messages(o, pp+".name", validation.IsValidPortName(port.Name))
			if _, dup := ports[port.Name]; dup {
				v.errorf(o, pp+".name", "duplicate port name %q", port.Name)
			}
			ports[port.Name] = port.ContainerPort
		}
		numbers[port.ContainerPort] = true
	}
	envNames := map[string]bool{}
	for i, e := range c.Env {
		ep := p(fmt.Sprintf("env[%d]", i))
		v.messages(o, ep+".name", validation.IsEnvVarName(e.Name))
		if envNames[e.Name] {
			v.errorf(o, ep+".name", "%s is set twice", e.Name)
		}
		envNames[e.Name] = true
		if e.ValueFrom == nil {
			continue
		}
		if e.Value != "" {
			v.errorf(o, ep, "value and valueFrom both set")
		}
		n := 0
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			n++
			if r.Name == "" || r.Key == "" {
				v.errorf(o, ep+".valueFrom.secretKeyRef", "name and key are required")
			}
			v.messages(o, ep+".valueFrom.secretKeyRef.key", validation.IsConfigMapKey(r.Key))
			if s, ok := v.secrets[r.Name]; ok && (r.Optional == nil || !*r.Optional) && !secretHasKey(s, r.Key) {
				v.errorf(o, ep+".valueFrom.secretKeyRef", "the chart's Secret %s has no key %q", r.Name, r.Key)
			}
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			n++
			if r.Name == "" || r.Key == "" {
				v.errorf(o, ep+".valueFrom.configMapKeyRef", "name and key are required")
			}
			if cm, ok := v.configMaps[r.Name]; ok && (r.Optional == nil || !*r.Optional) {
				if _, has := cm.Data[r.Key]; !has {
					v.errorf(o, ep+".valueFrom.configMapKeyRef", "the chart's ConfigMap %s has no key %q", r.Name, r.Key)
				}
			}
		}
		if e.ValueFrom.FieldRef != nil {
			n++
		}
		if e.ValueFrom.ResourceFieldRef != nil {
			n++
		}
		if n != 1 {
			v.errorf(o, ep+".valueFrom", "exactly one source, found %d", n)
		}
	}
	for i, f := range c.EnvFrom {
		fp := p(fmt.Sprintf("envFrom[%d]", i))
		switch {
		case f.ConfigMapRef != nil && f.SecretRef == nil:
			if f.ConfigMapRef.Name == "" {
				v.errorf(o, fp+".configMapRef.name", "required")
			}
		case f.SecretRef != nil && f.ConfigMapRef == nil:
			if f.SecretRef.Name == "" {
				v.errorf(o, fp+".secretRef.name", "required")
			}
		default:
			v.errorf(o, fp, "exactly one of configMapRef and secretRef")
		}
	}
	checkProbe := func(name string, pr *corev1.Probe, liveness bool) {
		if pr == nil {
			return
		}
		v.checkHandler(o, p(name), pr.ProbeHandler.HTTPGet, pr.ProbeHandler.TCPSocket, pr.ProbeHandler.Exec != nil, pr.ProbeHandler.GRPC != nil, false, ports, numbers)
		if liveness && pr.SuccessThreshold > 1 {
			v.errorf(o, p(name+".successThreshold"), "must be 1")
		}
		for _, f := range []struct {
			n string
			x int32
		}{{"periodSeconds", pr.PeriodSeconds}, {"timeoutSeconds", pr.TimeoutSeconds}, {"failureThreshold", pr.FailureThreshold}, {"initialDelaySeconds", pr.InitialDelaySeconds}} {
			if f.x < 0 {
				v.errorf(o, p(name+"."+f.n), "must not be negative")
			}
		}
	}
	checkProbe("livenessProbe", c.LivenessProbe, true)
	checkProbe("readinessProbe", c.ReadinessProbe, false)
	checkProbe("startupProbe", c.StartupProbe, true)
	if l := c.Lifecycle; l != nil {
		for name, h := range map[string]*corev1.LifecycleHandler{"postStart": l.PostStart, "preStop": l.PreStop} {
			if h == nil {
				continue
			}
			v.checkHandler(o, p("lifecycle."+name), h.HTTPGet, h.TCPSocket, h.Exec != nil, false, h.Sleep != nil, ports, numbers)
			if h.Sleep != nil && h.Sleep.Seconds <= 0 {
				v.errorf(o, p("lifecycle."+name+".sleep.seconds"), "must be above zero")
			}
		}
	}
	for name, limit := range c.Resources.Limits {
		if req, ok := c.Resources.Requests[name]; ok && req.Cmp(limit) > 0 {
			v.errorf(o, p("resources.requests."+string(name)), "%s is above the limit %s", req.String(), limit.String())
		}
	}
	mounts := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := p(fmt.Sprintf("volumeMounts[%d]", i))
		if _, ok := volumes[m.Name]; !ok {
			v.errorf(o, mp+".name", "no volume %q in the pod", m.Name)
		}
		if !path.IsAbs(m.MountPath) {
			v.errorf(o, mp+".mountPath", "must be absolute, not %q", m.MountPath)
		}
		if mounts[m.MountPath] {
			v.errorf(o, mp+".mountPath", "%s is mounted twice", m.MountPath)
		}
		mounts[m.MountPath] = true
	}
}

// checkHandler checks a probe's or lifecycle hook's action: exactly one, and a port the
// container declares (by name, or by number).
func (v *validator) checkHandler(o object, at string, get *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction, exec, grpc, sleep bool, ports map[string]int32, numbers map[int32]bool) {
	n := 0
	for _, b := range []bool{get != nil, tcp != nil, exec, grpc, sleep} {
		if b {
			n++
		}
	}
	if n != 1 {
		v.errorf(o, at, "exactly one action (httpGet, tcpSocket, exec, grpc, sleep), found %d", n)
	}
	checkPort := func(ap string, port intstr.IntOrString) {
		if port.Type == intstr.String {
			if _, ok := ports[port.StrVal]; !ok {
				v.errorf(o, ap, "the container has no port named %q", port.StrVal)
			}
		} else if !numbers[port.IntVal] {
			v.errorf(o, ap, "the container declares no port %d", port.IntVal)
		}
	}
	if get != nil {
		if !strings.HasPrefix(get.Path, "/") {
			v.errorf(o, at+".httpGet.path", "must start with /, not %q", get.Path)
		}
		switch get.Scheme {
		case "", corev1.URISchemeHTTP, corev1.URISchemeHTTPS:
		default:
			v.errorf(o, at+".httpGet.scheme", "HTTP or HTTPS, not %q", get.Scheme)
		}
		checkPort(at+".httpGet.port", get.Port)
	}
	if tcp != nil {
		checkPort(at+".tcpSocket.port", tcp.Port)
	}
}

// selectorMatches reports whether a selector selects pods with these labels; an empty selector
// selects nothing here (the chart never means "every pod").
func (v *validator) selectorMatches(o object, at string, sel *metav1.LabelSelector, podLabels map[string]string) bool {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		v.errorf(o, at, "%v", err)
		return false
	}
	return s.Matches(labels.Set(podLabels))
}

func (v *validator) checkDeployment(o object, d *appsv1.Deployment) {
	if d.Spec.Replicas != nil && *d.Spec.Replicas < 0 {
		v.errorf(o, "spec.replicas", "must not be negative")
	}
	if d.Spec.Selector == nil || (len(d.Spec.Selector.MatchLabels) == 0 && len(d.Spec.Selector.MatchExpressions) == 0) {
		v.errorf(o, "spec.selector", "required and not empty")
	} else {
		v.fieldErrors(o, metav1validation.ValidateLabelSelector(d.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector")))
		if !v.selectorMatches(o, "spec.selector", d.Spec.Selector, d.Spec.Template.Labels) {
			v.errorf(o, "spec.selector", "does not match the template's labels %v", d.Spec.Template.Labels)
		}
	}
	v.fieldErrors(o, metav1validation.ValidateLabels(d.Spec.Template.Labels, field.NewPath("spec", "template", "metadata", "labels")))
	v.fieldErrors(o, apivalidation.ValidateAnnotations(d.Spec.Template.Annotations, field.NewPath("spec", "template", "metadata", "annotations")))
	switch d.Spec.Strategy.Type {
	case "", appsv1.RollingUpdateDeploymentStrategyType:
		if ru := d.Spec.Strategy.RollingUpdate; ru != nil && isZero(ru.MaxUnavailable) && isZero(ru.MaxSurge) {
			v.errorf(o, "spec.strategy.rollingUpdate", "maxUnavailable and maxSurge may not both be 0")
		}
	case appsv1.RecreateDeploymentStrategyType:
		if d.Spec.Strategy.RollingUpdate != nil {
			v.errorf(o, "spec.strategy.rollingUpdate", "not allowed with Recreate")
		}
	default:
		v.errorf(o, "spec.strategy.type", "RollingUpdate or Recreate, not %q", d.Spec.Strategy.Type)
	}
	v.checkPodSpec(o, "spec.template.spec", &d.Spec.Template.Spec, false)
}

func isZero(x *intstr.IntOrString) bool {
	return x != nil && (x.Type == intstr.Int && x.IntVal == 0 || x.Type == intstr.String && (x.StrVal == "0" || x.StrVal == "0%"))
}

func (v *validator) checkJob(o object, j *batchv1.Job) {
	if j.Spec.Selector != nil && (j.Spec.ManualSelector == nil || !*j.Spec.ManualSelector) {
		v.errorf(o, "spec.selector", "set only with manualSelector; the API server makes it")
	}
	if j.Spec.BackoffLimit != nil && *j.Spec.BackoffLimit < 0 {
		v.errorf(o, "spec.backoffLimit", "must not be negative")
	}
	if j.Spec.ActiveDeadlineSeconds != nil && *j.Spec.ActiveDeadlineSeconds <= 0 {
		v.errorf(o, "spec.activeDeadlineSeconds", "must be above zero")
	}
	v.fieldErrors(o, metav1validation.ValidateLabels(j.Spec.Template.Labels, field.NewPath("spec", "template", "metadata", "labels")))
	v.fieldErrors(o, apivalidation.ValidateAnnotations(j.Spec.Template.Annotations, field.NewPath("spec", "template", "metadata", "annotations")))
	v.checkPodSpec(o, "spec.template.spec", &j.Spec.Template.Spec, true)
}

// podsOf returns the rendered Deployments whose pods the selector selects.
func (v *validator) podsOf(o object, at string, sel *metav1.LabelSelector) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, name := range sortedKeys(v.deployments) {
		d := v.deployments[name]
		if v.selectorMatches(o, at, sel, d.Spec.Template.Labels) {
			out = append(out, d)
		}
	}
	return out
}

func (v *validator) checkService(o object, s *corev1.Service) {
	switch s.Spec.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
	case corev1.ServiceTypeExternalName:
		v.messages(o, "spec.externalName", validation.IsDNS1123Subdomain(s.Spec.ExternalName))
		return
	default:
		v.errorf(o, "spec.type", "unsupported %q", s.Spec.Type)
	}
	if len(s.Spec.Ports) == 0 {
		v.errorf(o, "spec.ports", "required: at least one port")
	}
	var pods []*appsv1.Deployment
	if len(s.Spec.Selector) == 0 {
		v.errorf(o, "spec.selector", "required: the chart's Services select its pods")
	} else {
		v.fieldErrors(o, metav1validation.ValidateLabels(s.Spec.Selector, field.NewPath("spec", "selector")))
		pods = v.podsOf(o, "spec.selector", &metav1.LabelSelector{MatchLabels: s.Spec.Selector})
		if len(pods) == 0 {
			v.errorf(o, "spec.selector", "%v selects no pods of the rendered Deployments", s.Spec.Selector)
		}
	}
	names := map[string]bool{}
	for i, port := range s.Spec.Ports {
		pp := fmt.Sprintf("spec.ports[%d]", i)
		v.messages(o, pp+".port", validation.IsValidPortNum(int(port.Port)))
		if port.Name == "" && len(s.Spec.Ports) > 1 {
			v.errorf(o, pp+".name", "required when a Service has several ports")
		}
		if port.Name != "" {
			v.messages(o, pp+".name", validation.IsDNS1123Label(port.Name))
			if names[port.Name] {
				v.errorf(o, pp+".name", "duplicate port name %q", port.Name)
			}
			names[port.Name] = true
		}
		if port.NodePort != 0 && s.Spec.Type != corev1.ServiceTypeNodePort && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			v.errorf(o, pp+".nodePort", "only with NodePort or LoadBalancer")
		}
		target := port.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(port.Port)
		}
		for _, d := range pods {
			if !podHasPort(&d.Spec.Template.Spec, target) {
				v.errorf(o, pp+".targetPort", "the pods of Deployment %s have no port %s", d.Name, target.String())
			}
		}
	}
}

func podHasPort(spec *corev1.PodSpec, port intstr.IntOrString) bool {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
				return true
			}
		}
	}
	return false
}

func (v *validator) checkIngress(o object, ing *networkingv1.Ingress) {
	if c := ing.Spec.IngressClassName; c != nil {
		v.messages(o, "spec.ingressClassName", validation.IsDNS1123Subdomain(*c))
	}
	if ing.Spec.DefaultBackend == nil && len(ing.Spec.Rules) == 0 {
		v.errorf(o, "spec", "either defaultBackend or rules is required")
	}
	if b := ing.Spec.DefaultBackend; b != nil {
		v.checkBackend(o, "spec.defaultBackend", b)
	}
	hosts := map[string]bool{}
	for i, r := range ing.Spec.Rules {
		rp := fmt.Sprintf("spec.rules[%d]", i)
		if r.Host != "" {
			if strings.HasPrefix(r.Host, "*.") {
				v.messages(o, rp+".host", validation.IsWildcardDNS1123Subdomain(r.Host))
			} else {
				v.messages(o, rp+".host", validation.IsDNS1123Subdomain(r.Host))
			}
			hosts[r.Host] = true
		}
		if r.HTTP == nil || len(r.HTTP.Paths) == 0 {
			v.errorf(o, rp+".http.paths", "required: at least one path")
			continue
		}
		seen := map[string]bool{}
		for j, hp := range r.HTTP.Paths {
			pp := fmt.Sprintf("%s.http.paths[%d]", rp, j)
			if !strings.HasPrefix(hp.Path, "/") {
				v.errorf(o, pp+".path", "must start with /, not %q", hp.Path)
			}
			if hp.PathType == nil {
				v.errorf(o, pp+".pathType", "required in networking.k8s.io/v1")
			} else {
				switch *hp.PathType {
				case networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific:
				default:
					v.errorf(o, pp+".pathType", "Exact, Prefix or ImplementationSpecific, not %q", *hp.PathType)
				}
				key := string(*hp.PathType) + " " + hp.Path
				if seen[key] {
					v.errorf(o, pp, "%s is listed twice for this host", key)
				}
				seen[key] = true
			}
			v.checkBackend(o, pp+".backend", &hp.Backend)
		}
	}
	for i, t := range ing.Spec.TLS {
		for j, h := range t.Hosts {
			if !hosts[h] {
				v.errorf(o, fmt.Sprintf("spec.tls[%d].hosts[%d]", i, j), "%q is not a host of the rules", h)
			}
		}
	}
}

func (v *validator) checkBackend(o object, at string, b *networkingv1.IngressBackend) {
	if (b.Service == nil) == (b.Resource == nil) {
		v.errorf(o, at, "exactly one of service and resource")
		return
	}
	if b.Service == nil {
		return
	}
	svc, ok := v.services[b.Service.Name]
	if !ok {
		v.errorf(o, at+".service.name", "no rendered Service %q", b.Service.Name)
		return
	}
	port := b.Service.Port
	if (port.Name == "") == (port.Number == 0) {
		v.errorf(o, at+".service.port", "exactly one of name and number")
		return
	}
	for _, sp := range svc.Spec.Ports {
		if port.Name != "" && sp.Name == port.Name || port.Number != 0 && sp.Port == port.Number {
			return
		}
	}
	v.errorf(o, at+".service.port", "Service %s has no port %s", svc.Name, cmpOr(port.Name, fmt.Sprint(port.Number)))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (v *validator) checkHPA(o object, h *autoscalingv2.HorizontalPodAutoscaler) {
	ref := h.Spec.ScaleTargetRef
	var target *appsv1.Deployment
	if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" {
		v.errorf(o, "spec.scaleTargetRef", "the chart scales apps/v1 Deployments, not %s %s", ref.APIVersion, ref.Kind)
	} else if target = v.deployments[ref.Name]; target == nil {
		v.errorf(o, "spec.scaleTargetRef.name", "no rendered Deployment %q", ref.Name)
	}
	if h.Spec.MaxReplicas < 1 {
		v.errorf(o, "spec.maxReplicas", "must be at least 1")
	}
	if m := h.Spec.MinReplicas; m != nil && (*m < 1 || *m > h.Spec.MaxReplicas) {
		v.errorf(o, "spec.minReplicas", "must be from 1 to maxReplicas (%d), not %d", h.Spec.MaxReplicas, *m)
	}
	if len(h.Spec.Metrics) == 0 {
		v.errorf(o, "spec.metrics", "the chart's autoscalers name their metrics")
	}
	for i, m := range h.Spec.Metrics {
		mp := fmt.Sprintf("spec.metrics[%d]", i)
		if m.Type != autoscalingv2.ResourceMetricSourceType {
			v.errorf(o, mp+".type", "the validator knows Resource metrics, not %q", m.Type)
			continue
		}
		if m.Resource == nil {
			v.errorf(o, mp+".resource", "required with type Resource")
			continue
		}
		t := m.Resource.Target
		switch t.Type {
		case autoscalingv2.UtilizationMetricType:
			if t.AverageUtilization == nil || *t.AverageUtilization <= 0 {
				v.errorf(o, mp+".resource.target.averageUtilization", "required and above zero")
			}
			// Utilization is of the containers' requests: without one the HPA cannot compute it.
			if target != nil {
				for _, c := range target.Spec.Template.Spec.Containers {
					if _, ok := c.Resources.Requests[m.Resource.Name]; !ok {
						v.errorf(o, mp, "container %s of Deployment %s requests no %s", c.Name, target.Name, m.Resource.Name)
					}
				}
			}
		case autoscalingv2.AverageValueMetricType:
			if t.AverageValue == nil {
				v.errorf(o, mp+".resource.target.averageValue", "required")
			}
		default:
			v.errorf(o, mp+".resource.target.type", "Utilization or AverageValue, not %q", t.Type)
		}
	}
}

func (v *validator) checkPDB(o object, p *policyv1.PodDisruptionBudget) {
	if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
		v.errorf(o, "spec", "exactly one of minAvailable and maxUnavailable")
	}
	for name, x := range map[string]*intstr.IntOrString{"minAvailable": p.Spec.MinAvailable, "maxUnavailable": p.Spec.MaxUnavailable} {
		if x == nil {
			continue
		}
		if x.Type == intstr.Int && x.IntVal < 0 {
			v.errorf(o, "spec."+name, "must not be negative")
		}
		if x.Type == intstr.String {
			v.messages(o, "spec."+name, validation.IsValidPercent(x.StrVal))
		}
	}
	if len(v.podsOf(o, "spec.selector", p.Spec.Selector)) == 0 {
		v.errorf(o, "spec.selector", "selects no pods of the rendered Deployments")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
