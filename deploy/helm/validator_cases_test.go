package helm_test

import (
	"os"
	"strings"
	"testing"
)

// goodManifests is a small release the validator accepts; each case of TestValidatorRejects
// breaks one thing in it.
const goodManifests = `
# Source: linedesk/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: desk
type: Opaque
data:
  DATABASE_URL: cG9zdGdyZXM6Ly8=
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: desk
data:
  TEMPORAL_ADDRESS: "temporal:7233"
---
# only a comment: skipped
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: desk-files
spec:
  accessModes: [ReadWriteMany]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: Service
metadata:
  name: desk-api
spec:
  selector:
    app: desk
    component: api
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: desk-api
  labels:
    app: desk
spec:
  replicas: 2
  selector:
    matchLabels:
      app: desk
      component: api
  template:
    metadata:
      labels:
        app: desk
        component: api
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
      containers:
        - name: api
          image: "linedesk:1"
          args: [api]
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: desk
          env:
            - name: LINEDESK_HTTP_ADDR
              value: "0.0.0.0:8080"
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: desk
                  key: DATABASE_URL
            - name: LINEDESK_SECRETS_KEY
              valueFrom:
                secretKeyRef:
                  name: managed-elsewhere
                  key: key
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
          readinessProbe:
            httpGet:
              path: /readyz
              port: 8080
            timeoutSeconds: 3
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              cpu: "1"
              memory: 512Mi
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: files
              mountPath: /var/lib/linedesk/files
      volumes:
        - name: tmp
          emptyDir: {}
        - name: files
          persistentVolumeClaim:
            claimName: desk-files
---
apiVersion: batch/v1
kind: Job
metadata:
  name: desk-migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: "linedesk:1"
          args: [migrate]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: desk-api
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: desk-api
  minReplicas: 2
  maxReplicas: 5
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: desk-api
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: desk
      component: api
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: desk
spec:
  ingressClassName: nginx
  tls:
    - hosts: [desk.example.com]
      secretName: desk-tls
  rules:
    - host: desk.example.com
      http:
        paths:
          - path: /hooks
            pathType: Prefix
            backend:
              service:
                name: desk-api
                port:
                  name: http
          - path: /
            pathType: Prefix
            backend:
              service:
                name: desk-api
                port:
                  number: 80
`

func validate(stream string) error {
	objs, err := decodeManifests([]byte(stream))
	if err != nil {
		return err
	}
	return validateManifests(objs)
}

func TestValidatorAccepts(t *testing.T) {
	objs, err := decodeManifests([]byte(goodManifests))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 9 {
		t.Fatalf("decoded %d objects, want 9 (the comment-only document skipped)", len(objs))
	}
	if objs[0].Source != "linedesk/templates/secret.yaml" {
		t.Errorf("the first object's source is %q", objs[0].Source)
	}
	if err := validateManifests(objs); err != nil {
		t.Fatal(err)
	}
}

// TestValidatorRejects shows that the validator can fail: each case breaks the good manifests in
// one place and must be refused with the given message.
func TestValidatorRejects(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"misspelt field", "containerPort: 8080", "containerPorts: 8080", `unknown field "spec.template.spec.containers[0].ports[0].containerPorts"`},
		{"field in the wrong case", "containerPort: 8080", "ContainerPort: 8080", `unknown field "spec.template.spec.containers[0].ports[0].ContainerPort"`},
		{"field at the wrong level", "      securityContext:\n        runAsNonRoot: true", "      runAsNonRoot: true\n      securityContext:\n        runAsNonRoot: true", `unknown field "spec.template.spec.runAsNonRoot"`},
		{"wrong type", "replicas: 2", "replicas: two", "cannot unmarshal string into Go struct field"},
		{"number for a string", `value: "0.0.0.0:8080"`, `value: 8080`, "cannot unmarshal number into Go struct field EnvVar"},
		{"duplicate key", "  backoffLimit: 2\n", "  backoffLimit: 2\n  backoffLimit: 3\n", `"backoffLimit" already set`},
		{"invalid quantity", "memory: 512Mi", "memory: 512MB!", "quantities must match"},
		{"unknown kind", "kind: PodDisruptionBudget", "kind: PodDisruptionBudge", `kind "PodDisruptionBudge" is not a kind the validator knows`},
		{"container without image", `          image: "linedesk:1"` + "\n          args: [api]", "          args: [api]", "containers[0].image: required"},
		{"container without name", "        - name: migrate\n          image", "        - image", "containers[0].name: required"},
		{"probe port missing", "              port: http\n          readinessProbe", "              port: metrics\n          readinessProbe", `livenessProbe.httpGet.port: the container has no port named "metrics"`},
		{"probe port number missing", "              port: 8080\n", "              port: 8081\n", "readinessProbe.httpGet.port: the container declares no port 8081"},
		{"selector does not match the template", "    matchLabels:\n      app: desk\n      component: api\n  template", "    matchLabels:\n      app: desk\n      component: worker\n  template", "spec.selector: does not match the template's labels"},
		{"no selector", "  selector:\n    matchLabels:\n      app: desk\n      component: api\n  template", "  template", "spec.selector: required"},
		{"service selects no pods", "  selector:\n    app: desk\n    component: api\n  ports", "  selector:\n    app: desk\n    component: apl\n  ports", "selects no pods of the rendered Deployments"},
		{"service target port missing", "      targetPort: http", "      targetPort: web", "targetPort: the pods of Deployment desk-api have no port web"},
		{"ingress backend missing", "                name: desk-api\n                port:\n                  name: http", "                name: desk-apl\n                port:\n                  name: http", `service.name: no rendered Service "desk-apl"`},
		{"ingress port missing", "                  number: 80", "                  number: 8080", "service.port: Service desk-api has no port 8080"},
		{"ingress path type missing", "          - path: /hooks\n            pathType: Prefix\n", "          - path: /hooks\n", "pathType: required"},
		{"ingress TLS host not served", "    - hosts: [desk.example.com]", "    - hosts: [other.example.com]", `"other.example.com" is not a host of the rules`},
		{"HPA target missing", "    kind: Deployment\n    name: desk-api", "    kind: Deployment\n    name: desk-worker", `no rendered Deployment "desk-worker"`},
		{"HPA on a resource not requested", "        name: cpu\n        target", "        name: ephemeral-storage\n        target", "container api of Deployment desk-api requests no ephemeral-storage"},
		{"HPA min above max", "  minReplicas: 2\n  maxReplicas: 5", "  minReplicas: 6\n  maxReplicas: 5", "spec.minReplicas: must be from 1 to maxReplicas"},
		{"PDB with both bounds", "  minAvailable: 1\n", "  minAvailable: 1\n  maxUnavailable: 1\n", "exactly one of minAvailable and maxUnavailable"},
		{"job restarts always", "      restartPolicy: Never", "      restartPolicy: Always", `a Job's pods need Never or OnFailure, not "Always"`},
		{"key missing from the chart's secret", "                  key: DATABASE_URL", "                  key: DATABASE_URI", `the chart's Secret desk has no key "DATABASE_URI"`},
		{"volume mount without volume", "            - name: tmp\n              mountPath: /tmp", "            - name: scratch\n              mountPath: /tmp", `no volume "scratch" in the pod`},
		{"env set twice", "            - name: LINEDESK_SECRETS_KEY\n", "            - name: DATABASE_URL\n", "DATABASE_URL is set twice"},
		{"request above limit", "              cpu: 100m\n", "              cpu: \"2\"\n", "resources.requests.cpu: 2 is above the limit 1"},
		{"invalid label", "  labels:\n    app: desk\nspec", "  labels:\n    app: desk desk\nspec", "metadata.labels: Invalid value"},
		{"invalid name", "  name: desk-migrate", "  name: Desk_Migrate", "metadata.name: Invalid value"},
		{"root with runAsNonRoot", "runAsUser: 65532", "runAsUser: 0", "runAsNonRoot with runAsUser 0 never starts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(goodManifests, c.old) {
				t.Fatalf("the good manifests have no %q", c.old)
			}
			broken := strings.Replace(goodManifests, c.old, c.new, 1)
			err := validate(broken)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error does not say %q:\n%v", c.want, err)
			}
		})
	}
}

// TestValidateFile validates a rendering of your own, e.g. with your values file:
//
//	helm template linedesk deploy/helm/linedesk -f desk-values.yaml > /tmp/desk.yaml
//	LINEDESK_MANIFESTS=/tmp/desk.yaml go test ./deploy/helm -run TestValidateFile
func TestValidateFile(t *testing.T) {
	file := os.Getenv("LINEDESK_MANIFESTS")
	if file == "" {
		t.Skip("set LINEDESK_MANIFESTS to a file of rendered manifests to validate it")
	}
	stream, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(string(stream)); err != nil {
		t.Fatal(err)
	}
}
