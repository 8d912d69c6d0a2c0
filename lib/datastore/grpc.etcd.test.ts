import { describeWithEtcd } from './testing/describe-with-etcd';
import { defineKvSuite } from './testing/kv-suite';

describeWithEtcd('gRPC transport (etcd3)', () => {
  defineKvSuite('grpc');
});
