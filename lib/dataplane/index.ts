// The only code that changes Linux networking (DESIGN.md): veth, addresses, routes, sysctls.
export { assertUsableNetns, netnsState, type NetnsState } from './netns';
export {
  configurePodLink,
  createPodLink,
  removePodLink,
  setupPodNetwork,
  type Families,
  type PodLink,
  type PodNetwork,
  type PodNetworkSpec,
} from './setup-pod-network';
export { teardownPodNetwork, type PodNetworkRef } from './teardown-pod-network';
export { inspectPodNetwork, type PodNetworkExpectation } from './inspect-pod-network';
export { HOST_MAC, IPV4_GATEWAY, IPV6_GATEWAY } from './names';
export { spawnedProcessCount } from './command';
export { readHostRoutes } from './proc-net';
