"""The cluster's own controllers, simulated: what makes Deployments roll out on MemoryCluster.

A real cluster runs kube-controller-manager (deployment, replicaset, statefulset, daemonset, job
controllers, the garbage collector) and a kubelet per node; Flux's health checks read what they
write. On MemoryCluster nobody would, so this package stands in for them: `apps` and `batch`
turn workloads into ReplicaSets and Pods and write their status, `cronjobs` starts Jobs on the
virtual clock, `autoscaling` keeps HorizontalPodAutoscalers' targets within bounds (metrics are a
scenario input), `volumes` provisions and binds PersistentVolumeClaims behind the default
StorageClass, `endpointslices` lists ready Pods behind Services, `pods` holds the kubelet (and the
scheduler's volume binding), which moves Pods through their lifecycle, `images` decides which
images pull, crash or never get ready (the garbage collector is the memory store's own). They run
in the same engine as the Flux controllers (one work queue each), so rollouts and Flux's
reconciles interleave on one timeline.

Not simulated beyond storage: Ingress, IngressClass, NetworkPolicy and the Gateway API's kinds
(which come from the CRDs a repository brings, as on a real cluster) are accepted and stored with
their defaults, and nothing routes or enforces them (no ingress controller writes
`status.loadBalancer`); kstatus finds them Current as soon as they exist.

On a real cluster (k3s, a kubeconfig) the real ones do this, and these never run.

A workload controller that raises on some object (a bug, or a manifest nobody foresaw) costs that
object a Warning event (`ReconciliationFailed`, naming the exception) and the work queue's
backoff, never the run: the engine's queues catch it (`timing.workqueue`, `engine.simulation`),
as kube-controller-manager's workers recover a panic (`utilruntime.HandleCrash`) and requeue.
"""

from gitops_sim.workloads import (  # noqa: F401  (imported to register)
    apps,
    autoscaling,
    batch,
    cronjobs,
    endpointslices,
    pods,
    volumes,
)
