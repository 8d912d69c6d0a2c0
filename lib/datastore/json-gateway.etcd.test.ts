import { describeWithEtcd } from './testing/etcd-server';
import { defineKvSuite } from './testing/kv-suite';

describeWithEtcd('JSON gateway transport', () => {
  defineKvSuite('json');
});
