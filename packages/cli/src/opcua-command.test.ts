import {
  DataType,
  LocalizedText,
  NodeClass,
  resolveNodeId,
  Variant,
  VariantArrayType,
} from 'node-opcua-client';
import { describe, expect, it } from 'vitest';
import { type BrowseNode, browseTreeToJson, formatBrowseTree, variantToJson } from './opcua-command.js';

const ts = new Date('2024-03-01T10:15:00.000Z');

/** Objects ▸ Server (collapsed), Microgrid ▸ SOC (Double), Fault (Bool, bad status). */
function tree(): BrowseNode {
  return {
    nodeId: resolveNodeId('i=85'),
    browseName: 'Objects',
    displayName: 'Objects',
    nodeClass: NodeClass.Object,
    children: [
      {
        nodeId: resolveNodeId('i=2253'),
        browseName: 'Server',
        displayName: 'Server',
        nodeClass: NodeClass.Object,
        collapsed: 'standard node',
        children: [],
      },
      {
        nodeId: resolveNodeId('ns=2;s=Microgrid'),
        browseName: '2:Microgrid',
        displayName: 'Microgrid',
        nodeClass: NodeClass.Object,
        children: [
          {
            nodeId: resolveNodeId('ns=2;s=Microgrid/SOC'),
            browseName: '2:SOC',
            displayName: 'State of charge',
            nodeClass: NodeClass.Variable,
            variable: {
              dataType: 'Double',
              value: 55.5,
              shown: '55.5',
              status: 'Good',
              good: true,
              sourceTimestamp: ts,
            },
            children: [],
          },
          {
            nodeId: resolveNodeId('ns=2;s=Microgrid/Fault'),
            browseName: '2:Fault',
            displayName: 'Fault',
            nodeClass: NodeClass.Variable,
            variable: {
              dataType: 'Boolean',
              value: null,
              shown: 'null',
              status: 'BadWaitingForInitialData',
              good: false,
            },
            children: [],
          },
        ],
      },
    ],
  };
}

describe('opcua browse output', () => {
  it('the tree as printed', () => {
    expect(formatBrowseTree(tree()).split('\n')).toEqual([
      'Objects  (ns=0;i=85)  Object',
      '├─ Server  (ns=0;i=2253)  Object (standard node; --all to expand)',
      '└─ 2:Microgrid  (ns=2;s=Microgrid)  Object',
      '   ├─ 2:SOC  (ns=2;s=Microgrid/SOC)  Variable  Double = 55.5 @ 2024-03-01T10:15:00.000Z',
      '   └─ 2:Fault  (ns=2;s=Microgrid/Fault)  Variable  Boolean = null [BadWaitingForInitialData]',
      '',
    ]);
  });

  it('--json: nested nodes with nodeId, names, class, and for variables type, value, status, time', () => {
    expect(JSON.parse(JSON.stringify(browseTreeToJson(tree())))).toEqual({
      nodeId: 'ns=0;i=85',
      browseName: 'Objects',
      displayName: 'Objects',
      nodeClass: 'Object',
      children: [
        {
          nodeId: 'ns=0;i=2253',
          browseName: 'Server',
          displayName: 'Server',
          nodeClass: 'Object',
          collapsed: 'standard node',
          children: [],
        },
        {
          nodeId: 'ns=2;s=Microgrid',
          browseName: '2:Microgrid',
          displayName: 'Microgrid',
          nodeClass: 'Object',
          children: [
            {
              nodeId: 'ns=2;s=Microgrid/SOC',
              browseName: '2:SOC',
              displayName: 'State of charge',
              nodeClass: 'Variable',
              dataType: 'Double',
              value: 55.5,
              status: 'Good',
              sourceTimestamp: '2024-03-01T10:15:00.000Z',
              children: [],
            },
            {
              nodeId: 'ns=2;s=Microgrid/Fault',
              browseName: '2:Fault',
              displayName: 'Fault',
              nodeClass: 'Variable',
              dataType: 'Boolean',
              value: null,
              status: 'BadWaitingForInitialData',
              children: [],
            },
          ],
        },
      ],
    });
  });

  it('values as JSON: 64-bit integers and non-finite numbers as strings, arrays whole, times ISO', () => {
    const scalar = (dataType: DataType, value: unknown) =>
      variantToJson(new Variant({ dataType, arrayType: VariantArrayType.Scalar, value }));
    expect(scalar(DataType.Double, 12.25)).toBe(12.25);
    expect(scalar(DataType.Double, Number.NaN)).toBe('NaN');
    expect(scalar(DataType.Boolean, false)).toBe(false);
    expect(scalar(DataType.String, 'a "b"')).toBe('a "b"');
    expect(scalar(DataType.DateTime, ts)).toBe('2024-03-01T10:15:00.000Z');
    // node-opcua holds 64-bit integers as [high, low] 32-bit words.
    expect(scalar(DataType.Int64, [0x200000, 1])).toBe('9007199254740993');
    expect(scalar(DataType.Int64, [0xffffffff, 0xfffffffe])).toBe('-2');
    expect(scalar(DataType.UInt64, [0xffffffff, 0xffffffff])).toBe('18446744073709551615');
    expect(scalar(DataType.LocalizedText, new LocalizedText({ text: 'Batterie', locale: 'de' }))).toBe(
      'Batterie',
    );
    expect(scalar(DataType.ByteString, Buffer.from('hi'))).toBe('aGk=');
    expect(
      variantToJson(
        new Variant({ dataType: DataType.Float, arrayType: VariantArrayType.Array, value: [1.5, 2] }),
      ),
    ).toEqual([1.5, 2]);
    expect(
      variantToJson(
        new Variant({
          dataType: DataType.UInt64,
          arrayType: VariantArrayType.Array,
          value: [
            [0, 5],
            [1, 0],
          ],
        }),
      ),
    ).toEqual(['5', '4294967296']);
    expect(variantToJson(new Variant({ dataType: DataType.Null }))).toBeNull();
    expect(variantToJson(undefined)).toBeNull();
  });
});
