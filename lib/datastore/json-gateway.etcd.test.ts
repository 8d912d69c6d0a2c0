import { describeWithEtcd } from './testing/describe-with-etcd';
import { defineKvSuite } from './testing/kv-suite';

describeWithEtcd('JSON gateway transport', () => {
  defineKvSuite('json');
});
