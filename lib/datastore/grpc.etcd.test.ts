import { describeWithEtcd } from './testing/etcd-server';
import { defineKvSuite } from './testing/kv-suite';

describeWithEtcd('gRPC transport (etcd3)', () => {
  defineKvSuite('grpc');
});
