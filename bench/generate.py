"""Synthetic standards repositories in stdkit's real format, for the benchmarks.

    python bench/generate.py OUT [--standards 20] [--clauses 10000] [--seed 1] [--history 200]

Writes ``OUT/stdkit.yaml`` and ``OUT/standards/<id>/…``: N standards (interface, verification and
maturity in turn) with M clauses in all (every clause object counts: parts, subclauses, annex
clauses), bilingual zh/en texts with :ref:/:term:/:cite: roles (some across standards), provisions
with the proper verbal forms (应/shall, 宜/should, 可/may), references, terms, nodes, messages
and signals, environments and verification cases, evidence types and maturity levels. The
result validates cleanly (0 errors, 0 warnings); the generator is deterministic for a seed.

``--history N`` also makes OUT a git repository: a first commit tagged as the baseline
``<id>/working-draft.1`` of every standard, N-1 commits of small edits (a changed sentence, a
new note, a new provision), and a last commit raising every revision to 2, tagged
``<id>/working-draft.2``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Dumper(_Base):  # type: ignore[misc,valid-type]
    """libyaml's emitter, never writing anchors (stdkit refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

KINDS = ("interface", "verification", "maturity")
PART_SIZE = 20  # clause objects per technical part file (the part and its subclauses)

# ---------------------------------------------------------------------------------------------
# Phrase banks: bilingual fragments that read like the alliance's drafts. Free text (clause
# texts, notes, descriptions) avoids the provision words (应 宜 可 能 shall should may can), as a
# drafter would; provisions carry exactly one verbal form.

SUBJECTS = [
    ("整车控制器", "the vehicle control unit"),
    ("电池管理系统", "the battery management system"),
    ("电机控制器", "the motor controller"),
    ("车载充电机", "the on-board charger"),
    ("热管理控制器", "the thermal management controller"),
    ("制动控制器", "the brake controller"),
    ("中央网关", "the central gateway"),
    ("驾驶辅助控制器", "the driver assistance controller"),
    ("直流变换器", "the DC/DC converter"),
    ("车身控制器", "the body control module"),
]
CONDITIONS = [
    ("检测到接收超时后", "after detecting a reception timeout"),
    ("点火开关置于ON档时", "when the ignition is switched on"),
    ("动力蓄电池温度低于-20 ℃时", "when the traction battery temperature is below -20 °C"),
    ("收到紧急断开指令后", "after receiving an emergency disconnection command"),
    ("高压母线电压超过上限时", "when the high-voltage bus voltage exceeds its upper limit"),
    ("车辆静止且驻车制动施加时", "while the vehicle is stationary with the parking brake applied"),
    ("校验和错误连续出现3次时", "when three consecutive checksum errors occur"),
    ("滚动计数器停止变化时", "when the rolling counter stops changing"),
    ("外部充电开始前", "before external charging starts"),
    ("进入降级模式后", "after entering the degraded mode"),
]
ACTIONS = [
    ("在100 ms内将输出转矩降至零", "reduce the output torque to zero within 100 ms"),
    ("记录对应的诊断故障码", "record the corresponding diagnostic trouble code"),
    ("以20 ms周期发送状态报文", "transmit its status message with a cycle time of 20 ms"),
    ("在500 ms内断开主接触器", "open the main contactors within 500 ms"),
    ("将相关信号置为无效值", "set the affected signals to their invalid value"),
    ("保持最后一次有效值不超过1 s", "hold the last valid value for not longer than 1 s"),
    ("向驾驶员发出声光报警", "give the driver an acoustic and optical warning"),
    ("限制充电功率不超过额定值的50 %", "limit the charge power to 50 % of its rated value"),
    ("在200 ms内完成自检", "complete its self-test within 200 ms"),
    ("停止再生制动", "stop regenerative braking"),
]
TOPICS = [
    ("通信监控", "communication monitoring"),
    ("高压上下电", "high-voltage power-up and power-down"),
    ("故障处理", "fault handling"),
    ("热管理", "thermal management"),
    ("充电控制", "charging control"),
    ("转矩协调", "torque coordination"),
    ("诊断", "diagnostics"),
    ("网络管理", "network management"),
    ("端到端保护", "end-to-end protection"),
    ("标定与配置", "calibration and configuration"),
    ("能量管理", "energy management"),
    ("安全监控", "safety monitoring"),
]
EXPLAIN = [
    ("该过程的时序见下文各条。",
     "The timing of this process is given in the following subclauses."),
    ("本条中的时间均从报文的最后一次有效接收时刻起算。",
     "Times in this subclause are counted from the last valid reception of the message."),
    ("电压和电流均为动力蓄电池端子处的测量值。",
     "Voltages and currents are values measured at the terminals of the traction battery."),
    ("信号的编码方式与数据库文件中的定义一致。",
     "The signals are encoded as defined in the database file."),
    ("表中的数值为典型配置，不构成额外的要求。",
     "The values in the table are those of a typical configuration and set no further condition."),
    ("各控制器之间的信息交换经由动力总成CAN总线进行。",
     "Information is exchanged between the controllers over the powertrain CAN bus."),
]
TERMS = [
    ("bms", "电池管理系统", "battery management system", "BMS",
     "监测动力蓄电池状态并控制主接触器的电子系统",
     "electronic system that monitors the state of the traction battery and controls the main"
     " contactors"),
    ("vcu", "整车控制器", "vehicle control unit", "VCU",
     "协调动力系统工作并管理高压上下电过程的电子控制单元",
     "electronic control unit that coordinates the powertrain and manages the high-voltage"
     " power-up and power-down"),
    ("soc", "荷电状态", "state of charge", "SOC",
     "动力蓄电池所余容量与其实际容量之比，以百分数表示",
     "ratio of the remaining capacity of the traction battery to its actual capacity, expressed"
     " as a percentage"),
    ("e2e", "端到端保护", "end-to-end protection", "E2E",
     "发送方附加控制数据、接收方对其进行校验的通信故障检测机制",
     "mechanism in which the sender adds control data and the receiver checks them to detect"
     " communication faults"),
    ("timeout", "接收超时时间", "reception timeout", None,
     "接收方所允许的连续两次有效接收之间的最大时间间隔",
     "maximum interval permitted between two consecutive valid receptions"),
    ("degraded", "降级模式", "degraded mode", None,
     "检测到故障后以降低的驱动功率继续行驶的运行模式",
     "operating mode in which the vehicle continues with reduced traction power after a fault"),
    ("contactor", "主接触器", "main contactor", None,
     "将动力蓄电池与高压母线接通或断开的电磁式开关",
     "electromagnetic switch that connects the traction battery to the high-voltage bus or"
     " disconnects it"),
    ("xil", "X在环验证", "X-in-the-loop verification", "XiL",
     "被验证对象与仿真环境闭环连接的验证方法",
     "verification in which the item under verification runs in closed loop with a simulated"
     " environment"),
    ("trl", "技术成熟度等级", "technology readiness level", "TRL",
     "表示技术相对于目标应用的成熟程度的等级",
     "level that expresses the maturity of a technology relative to its target application"),
    ("evidence", "证据", "evidence", None,
     "支持技术成熟度判定的文件化信息",
     "documented information that supports the determination of a readiness level"),
    ("dtc", "诊断故障码", "diagnostic trouble code", "DTC",
     "控制器检测到故障时记录的标识码",
     "code recorded by a controller when it detects a fault"),
    ("restbus", "剩余总线仿真", "restbus simulation", None,
     "模拟未接入的网络节点发送报文的仿真",
     "simulation of the messages sent by network nodes that are not present"),
]
REFERENCES = [
    ("gbt34590", "GB/T 34590 (all parts)", "道路车辆　功能安全",
     "Road vehicles — Functional safety"),
    ("iso11898-1", "ISO 11898-1:2015",
     "道路车辆　控制器局域网（CAN）　第1部分：数据链路层和物理信令",
     "Road vehicles — Controller area network (CAN) — Part 1: Data link layer and physical"
     " signalling"),
    ("iso14229-1", "ISO 14229-1:2020", "道路车辆　统一诊断服务　第1部分：应用层",
     "Road vehicles — Unified diagnostic services (UDS) — Part 1: Application layer"),
    ("gbt18384", "GB 18384—2020", "电动汽车安全要求", "Electric vehicles safety requirements"),
    ("iso16290", "ISO 16290:2013", "空间系统　技术成熟度等级及评价准则的定义",
     "Space systems — Definition of the Technology Readiness Levels (TRLs) and their criteria"
     " of assessment"),
    ("autosar-e2e", "AUTOSAR FO R22-11 PRS E2E Protocol", "端到端通信保护协议规范",
     "E2E Protocol Specification"),
]
BIBLIOGRAPHY = [
    ("gbt27930", "GB/T 27930", "电动汽车非车载传导式充电机与电池管理系统之间的数字通信协议",
     "Digital communication protocols between off-board conductive charger and battery"
     " management system for electric vehicle"),
    ("vss", "COVESA VSS", "车辆信号规范", "Vehicle Signal Specification"),
    ("iso26262-6", "ISO 26262-6:2018", "道路车辆　功能安全　第6部分：软件层面的产品开发",
     "Road vehicles — Functional safety — Part 6: Product development at the software level"),
]
NODES = [("VCU", "整车控制器", "vehicle control unit"),
         ("BMS", "电池管理系统", "battery management system"),
         ("MCU", "电机控制器", "motor controller"), ("OBC", "车载充电机", "on-board charger"),
         ("TMS", "热管理控制器", "thermal management controller"),
         ("GW", "中央网关", "central gateway")]
UNITS = ["V", "A", "kW", "percent", "celsius", "km/h", "rpm", "Nm", "mOhm"]
QUANTITIES = [("电压", "voltage"), ("电流", "current"), ("功率", "power"),
              ("温度", "temperature"), ("转速", "speed"), ("转矩", "torque"),
              ("荷电状态", "state of charge"), ("车速", "vehicle speed")]
ENVIRONMENTS = [("MIL", "模型在环环境", "Model-in-the-loop environment"),
                ("SIL", "软件在环环境", "Software-in-the-loop environment"),
                ("HIL", "硬件在环环境", "Hardware-in-the-loop environment"),
                ("vehicle", "整车在环环境", "Vehicle-in-the-loop environment"),
                ("proving-ground", "试验场环境", "Proving-ground environment")]
EVIDENCE = [("LIT", "文献综述报告", "Literature review report"),
            ("SIM", "仿真分析报告", "Simulation report"),
            ("TST", "试验报告", "Test report"), ("REV", "评审记录", "Review record"),
            ("PPA", "生产件批准文件", "Production part approval documents"),
            ("FLD", "使用数据分析报告", "Field data analysis report")]
TRL = [("基本原理被发现", "basic principles observed"),
       ("技术概念形成", "technology concept formulated"),
       ("原理得到验证", "proof of concept"), ("实验室环境验证", "validated in the laboratory"),
       ("部件级相关环境验证", "validated in a relevant environment (component)"),
       ("整车级相关环境验证", "demonstrated in a relevant environment (vehicle)"),
       ("使用环境验证", "demonstrated in the operational environment"),
       ("系统完成并通过鉴定", "system complete and qualified"),
       ("批量使用验证", "proven in series production")]

FOREWORD_ZH = (
    "本文件按照GB/T 1.1—2020《标准化工作导则　第1部分：标准化文件的结构和起草规则》的规定起草。\n\n"
    "请注意本文件的某些内容可能涉及专利。本文件的发布机构不承担识别专利的责任。\n\n"
    "本文件由汽车产学研创新联盟标准化技术委员会提出并归口。\n\n"
    "本文件起草单位：衡远汽车股份有限公司、江川理工大学。\n\n"
    "本文件主要起草人：周立衡、陈思远。\n")
FOREWORD_EN = (
    "This document is drafted in accordance with the rules given in GB/T 1.1—2020 Directives for"
    " standardization — Part 1: Rules for the structure and drafting of standardizing"
    " documents.\n\n"
    "Attention is drawn to the possibility that some of the elements of this document may be the"
    " subject of patent rights. The issuing body of this document shall not be held responsible"
    " for identifying any or all such patent rights.\n\n"
    "This document was proposed by and is under the jurisdiction of the Standardization Technical"
    " Committee of the Automotive Industry–Education–Research Innovation Alliance.\n\n"
    "Drafting organizations of this document: Hengyuan Automobile Co., Ltd., Jiangchuan"
    " University of Technology.\n\n"
    "Main drafters of this document: ZHOU Liheng, CHEN Siyuan.\n")
NORMREF_ZH = (
    "下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。其中，注日期的引用文件，仅该日期对应的"
    "版本适用于本文件；不注日期的引用文件，其最新版本（包括所有的修改单）适用于本文件。")
NORMREF_EN = (
    "The following documents are referred to in the text in such a way that some or all of their"
    " content constitutes requirements of this document. For dated references, only the edition"
    " cited applies. For undated references, the latest edition of the referenced document"
    " (including any amendments) applies.")
TERMS_ZH = "下列术语和定义适用于本文件。"
TERMS_EN = "For the purposes of this document, the following terms and definitions apply."


def t(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# ---------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What one standard holds, decided before any text is written (for cross references)."""

    sid: str
    number: int
    kind: str
    clauses: int
    parts: list[str] = field(default_factory=list)
    provisions: list[str] = field(default_factory=list)  # ids usable as :ref: targets elsewhere


class Generator:
    def __init__(self, standards: int, clauses: int, seed: int) -> None:
        if clauses < standards * 14:
            raise SystemExit(f"--clauses must be at least 14 per standard ({standards * 14})")
        self.rng = random.Random(seed)
        base, extra = divmod(clauses, standards)
        self.plans = [
            Plan(f"syn-{i + 1:04d}", i + 1, KINDS[i % 3], base + (1 if i < extra else 0))
            for i in range(standards)
        ]
        self.files: dict[str, Any] = {}

    # -- texts --------------------------------------------------------------------------------

    def sentence(self) -> tuple[str, str]:
        zh, en = self.rng.choice(EXPLAIN)
        return zh, en

    def provision_text(self, kind: str, refs: list[tuple[str, str]]) -> dict[str, str]:
        r = self.rng
        szh, sen = r.choice(SUBJECTS)
        czh, cen = r.choice(CONDITIONS)
        azh, aen = r.choice(ACTIONS)
        word_zh, word_en = {"requirement": ("应", "shall"), "recommendation": ("宜", "should"),
                            "permission": ("可", "may")}[kind]
        tail_zh = tail_en = ""
        if refs:
            rzh, ren = r.choice(refs)
            tail_zh, tail_en = f"（见{rzh}）", f" (see {ren})"
        return t(f"{czh}，{szh}{word_zh}{azh}{tail_zh}。",
                 f"{cap(cen)}, {sen} {word_en} {aen}{tail_en}.")

    # -- parts --------------------------------------------------------------------------------

    def generate(self) -> dict[str, Any]:
        n = len(self.plans)
        self.files["stdkit.yaml"] = {
            "languages": ["zh", "en"], "designation_prefix": "T/SYN", "rules": {},
        }
        for plan in self.plans:
            self.standard(plan)
        assert len(self.files) > n
        return self.files

    def standard(self, p: Plan) -> None:
        r = self.rng
        folder = f"standards/{p.sid}"
        parts: list[tuple[str, dict[str, Any]]] = []
        budget = p.clauses
        terms = TERMS[:]
        r.shuffle(terms)
        terms = terms[:8]
        term_ids = [f"term-{x[0]}" for x in terms]
        refs = REFERENCES[:]
        r.shuffle(refs)
        refs = refs[:4]
        ref_ids = [f"ref-{x[0]}" for x in refs]
        self.term_ids, self.ref_ids = term_ids, ref_ids

        parts.append(("foreword", {
            "id": "foreword", "type": "foreword", "title": t("前言", "Foreword"),
            "text": t(FOREWORD_ZH, FOREWORD_EN)}))
        topic = r.choice(TOPICS)
        parts.append(("introduction", {
            "id": "introduction", "type": "introduction", "title": t("引言", "Introduction"),
            "text": t(f"本文件给出{topic[0]}的统一规定，涉及"
                      + "、".join(f" :term:`{x}` " for x in term_ids) + "，参见"
                      + "、".join(f" :cite:`{x}` " for x in ref_ids) + "。",
                      f"This document gives uniform provisions for {topic[1]}, concerning "
                      + ", ".join(f":term:`{x}`" for x in term_ids) + "; see "
                      + ", ".join(f":cite:`{x}`" for x in ref_ids) + ".")}))
        parts.append(("scope", {
            "id": "scope", "type": "scope", "title": t("范围", "Scope"),
            "text": t(f"本文件规定了 :term:`{term_ids[0]}` 与 :term:`{term_ids[1]}` 之间的接口、"
                      "过程和验证方法。\n\n本文件适用于纯电动汽车和插电式混合动力汽车。",
                      f"This document specifies the interfaces, processes and verification methods"
                      f" between the :term:`{term_ids[0]}` and the :term:`{term_ids[1]}`.\n\n"
                      "This document is applicable to battery electric vehicles and plug-in hybrid"
                      " electric vehicles.")}))
        parts.append(("normative-references", {
            "id": "normative-references", "type": "normative-references",
            "title": t("规范性引用文件", "Normative references"), "text": t(NORMREF_ZH, NORMREF_EN),
            "references": [{"id": f"ref-{k}", "designation": d, "title": t(zh, en)}
                           for k, d, zh, en in refs]}))
        parts.append(("terms", {
            "id": "terms", "type": "terms", "title": t("术语和定义", "Terms and definitions"),
            "text": t(TERMS_ZH, TERMS_EN),
            "terms": [self._term(x) for x in terms]}))
        budget -= 5 + 1 + 4  # the parts above, the bibliography, the annex and its 3 subclauses

        # Technical parts: the first carries the kind's shared objects.
        sizes: list[int] = []
        while budget > 0:
            size = min(PART_SIZE, budget)
            sizes.append(size)
            budget -= size
        if len(sizes) > 1 and sizes[-1] == 2:
            sizes[-2:] = [sizes[-2] - 1, 3]  # a part of 2 would have a lone subclause
        self.ctx = _Ctx(p, self)
        for k, size in enumerate(sizes, 1):
            pid = f"c{k:02d}"
            parts.append((pid, self.technical(pid, size, k, last=k == len(sizes))))
        parts.append(("annex-a", self.annex()))
        parts.append(("bibliography", {
            "id": "bibliography", "type": "bibliography", "title": t("参考文献", "Bibliography"),
            "references": [{"id": f"bib-{k}", "designation": d, "title": t(zh, en)}
                           for k, d, zh, en in BIBLIOGRAPHY]}))
        p.parts = [pid for pid, _ in parts]
        self.files[f"{folder}/standard.yaml"] = {
            "id": p.sid, "designation": f"T/SYN {p.number:04d}", "kind": p.kind,
            "title": t(f"合成标准{p.number}：{r.choice(TOPICS)[0]}",
                       f"Synthetic standard {p.number}: {r.choice(TOPICS)[1]}"),
            "languages": ["zh", "en"], "stage": "working-draft", "revision": 1, "edition": 1,
            "date": "2026-11-24",
            "committee": t("汽车产学研创新联盟标准化技术委员会",
                           "Standardization Technical Committee of the Automotive"
                           " Industry–Education–Research Innovation Alliance"),
            "drafting_units": [t("衡远汽车股份有限公司", "Hengyuan Automobile Co., Ltd."),
                               t("江川理工大学", "Jiangchuan University of Technology")],
            "drafters": [t("周立衡", "ZHOU Liheng"), t("陈思远", "CHEN Siyuan")],
            "parts": p.parts,
        }
        for pid, data in parts:
            self.files[f"{folder}/{pid}.yaml"] = data

    def _term(self, x: tuple[Any, ...]) -> dict[str, Any]:
        key, zh, en, abbr, dzh, den = x
        out: dict[str, Any] = {"id": f"term-{key}", "term": t(zh, en)}
        if abbr:
            out["abbreviation"] = abbr
        out["definition"] = t(dzh, den)
        return out

    def annex(self) -> dict[str, Any]:
        subs = []
        for i in range(1, 4):
            zh, en = self.sentence()
            subs.append({"id": f"annex-a-{i}", "title": t(f"示例{i}", f"Example {i}"),
                         "text": t(f"{zh}相关要求见 :ref:`c01` 。", f"{en} The related provisions"
                                   " are given in :ref:`c01`.")})
        return {"id": "annex-a", "type": "annex", "annex": "informative",
                "title": t("典型配置示例", "Examples of typical configurations"),
                "clauses": subs}

    def technical(self, pid: str, size: int, k: int, *, last: bool = False) -> dict[str, Any]:
        """A technical part of ``size`` clause objects: the part, groups and their subclauses."""
        c = self.ctx
        r = self.rng
        tzh, ten = TOPICS[(k + c.p.number) % len(TOPICS)]
        # Only leaf clauses carry text and content: GB/T 1.1 has no hanging paragraphs, and a
        # clause is subdivided into two subclauses or more, never one.
        part: dict[str, Any] = {"id": pid, "type": "clause", "title": t(tzh, cap(ten))}
        if c.p.kind == "verification" and k > 1 and k % 2 == 0:
            part["under_test"] = True
        if size == 1:
            part.update(self.clause(pid, pid, k, depth=1))
            part["title"] = t(tzh, cap(ten))
        else:
            left = size - 1
            groups: list[dict[str, Any]] = []
            g = 0
            while left > 0:
                g += 1
                kids = r.choice([0, 2, 3, 4]) if not (k == 1 and g == 1) else 0
                kids = kids if left - 1 >= kids else 0
                if g == 1 and left - 1 - kids == 0:
                    kids = 0  # keep a second subclause for the part
                gid = f"{pid}-{g:02d}"
                if kids:
                    sub = [self.clause(f"{gid}-{j}", pid, k, depth=3)
                           for j in range(1, kids + 1)]
                    szh, sen = r.choice(TOPICS)
                    groups.append({"id": gid, "title": t(szh, cap(sen)), "clauses": sub})
                else:
                    groups.append(self.clause(gid, pid, k, depth=2))
                    if k == 1 and g == 1:
                        groups[-1]["title"] = t("一般要求", "General")
                        c.first_part(groups[-1])
                left -= 1 + kids
            part["clauses"] = groups
        while last and c.pending:
            c.cases(c.last_leaf)  # every provision under test is verified by some case
        return part

    def clause(self, cid: str, pid: str, k: int, depth: int) -> dict[str, Any]:
        c = self.ctx
        r = self.rng
        tzh, ten = r.choice(TOPICS)
        szh, sen = r.choice(SUBJECTS)
        ezh, een = self.sentence()
        roles_zh, roles_en = [], []
        term = r.choice(self.term_ids)
        roles_zh.append(f"术语 :term:`{term}` 的含义见 :ref:`terms` 。")
        roles_en.append(f"The term :term:`{term}` is defined in :ref:`terms`.")
        if c.earlier and r.random() < 0.5:
            target = r.choice(c.earlier[-40:])
            roles_zh.append(f"另见 :ref:`{target}` 。")
            roles_en.append(f"See also :ref:`{target}`.")
        if r.random() < 0.15:
            ref = r.choice(self.ref_ids)
            roles_zh.append(f"测量方法按 :cite:`{ref}` 。")
            roles_en.append(f"The measurement method is that of :cite:`{ref}`.")
        other = c.peer_target()
        if other:
            roles_zh.append(f"相关规定见 :ref:`{other}` 。")
            roles_en.append(f"Related provisions are given in :ref:`{other}`.")
        data: dict[str, Any] = {
            "id": cid,
            "title": t(f"{szh}的{tzh}", f"{cap(ten)} of {sen}"),
            "text": t(f"本条规定{szh}在{tzh}方面的要求。{ezh}" + "".join(roles_zh),
                      f"This subclause specifies {ten} of {sen}. {een} " + " ".join(roles_en)),
        }
        c.content(data, cid, k, depth)
        c.last_leaf = data
        if r.random() < 0.2:
            nzh, nen = self.sentence()
            data["notes"] = [t(nzh, nen)]
        c.earlier.append(cid)
        return data


class _Ctx:
    """Kind-specific content for one standard, and the ids it has made so far."""

    def __init__(self, p: Plan, gen: Generator) -> None:
        self.p, self.gen, self.r = p, gen, gen.rng
        self.earlier: list[str] = []
        self.can = 0x100
        self.msg = 0
        self.prov = 0
        self.case = 0
        self.pending: list[str] = []  # provisions under test not yet verified
        self.levels_done = False
        self.last_leaf: dict[str, Any] = {}
        # A standard refers to its neighbours (the interface it verifies, the one it builds on),
        # not to every other standard of the repository.
        n = len(gen.plans)
        near = {gen.plans[(p.number - 2) % n].sid, gen.plans[p.number % n].sid} - {p.sid}
        self.peers = [q for q in gen.plans if q.sid in near]

    def peer_target(self) -> str | None:
        """Now and then a cross-standard :ref: to a part every generated standard has."""
        if not self.peers or self.r.random() > 0.1:
            return None
        q = self.r.choice(self.peers)
        return f"{q.sid}:{self.r.choice(['scope', 'c01', 'terms', 'annex-a', 'c01-01'])}"

    def first_part(self, part: dict[str, Any]) -> None:
        kind = self.p.kind
        part["text"]["zh"] += "典型配置示例见 :ref:`annex-a` 。"
        part["text"]["en"] += " Examples of typical configurations are given in :ref:`annex-a`."
        if kind == "interface":
            part["nodes"] = [{"id": n, "name": t(zh, en)} for n, zh, en in NODES]
            part["units"] = [{"id": "mOhm", "name": t("毫欧", "milliohm"),
                              "quantity": "resistance"}]
            part["value_tables"] = [{"id": "VT-STATE", "entries": [
                {"value": i, "name": n} for i, n in
                enumerate(["Init", "Standby", "Ready", "Fault", "Service"])]}]
        elif kind == "verification":
            part["environments"] = [
                {"id": f"ENV-{code.upper().replace('-', '')}", "type": code,
                 "description": t(f"{zh}：被验证对象与仿真模型闭环运行。",
                                  f"{en}: the item under verification runs in closed loop with"
                                  " simulation models.")}
                for code, zh, en in ENVIRONMENTS]
        else:
            part["evidence_types"] = [
                {"id": f"EV-{code}", "name": t(zh, en),
                 "description": t(f"{zh}，作为判定等级的依据。", f"{en}, used as a basis for"
                                  " determining the level.")} for code, zh, en in EVIDENCE]

    def provisions(self, data: dict[str, Any], n: int, *, tested: bool) -> list[str]:
        out = []
        provs = []
        for _ in range(n):
            self.prov += 1
            kind = "requirement" if self.prov == 1 or self.r.random() < 0.8 else self.r.choice(
                ["recommendation", "permission"])
            prefix = {"requirement": "REQ", "recommendation": "REC", "permission": "PER"}[kind]
            pid = f"{prefix}-{self.prov:05d}"
            refs = [(f" :ref:`{x}` ", f":ref:`{x}`") for x in self.earlier[-3:]]
            entry: dict[str, Any] = {"id": pid, "kind": kind,
                                     "text": self.gen.provision_text(kind, refs)}
            entry["verification"] = [self.r.choice(["test", "analysis", "inspection"])]
            if self.r.random() < 0.3:
                entry["asil"] = self.r.choice(["QM", "A", "B", "C", "D"])
            provs.append(entry)
            out.append(pid)
        data["provisions"] = provs
        if tested:
            self.pending.extend(out)
        return out

    def content(self, data: dict[str, Any], cid: str, k: int, depth: int) -> None:
        kind = self.p.kind
        r = self.r
        if kind == "interface":
            if depth == 2 and r.random() < 0.35:
                self.message(data)
            else:
                self.provisions(data, r.randint(1, 2), tested=False)
        elif kind == "verification":
            if k == 1 or k % 2 == 0:
                self.provisions(data, r.randint(1, 2), tested=k % 2 == 0)
            elif self.pending:
                self.cases(data)
            else:
                self.provisions(data, 1, tested=False)
        else:
            if not self.levels_done:
                self.levels_done = True
                data["levels"] = [self.level(n) for n in range(1, 10)]
            else:
                self.provisions(data, r.randint(1, 2), tested=False)

    def level(self, n: int) -> dict[str, Any]:
        zh, en = TRL[n - 1]
        ev = [f"EV-{EVIDENCE[i % len(EVIDENCE)][0]}" for i in range(n - 1, n + 1)]
        return {
            "id": f"TRL{n}", "level": n, "name": t(zh, cap(en)),
            "description": t(f"技术处于“{zh}”阶段。", f"The technology has reached the stage"
                             f" “{en}”."),
            "environment": t("实验室环境" if n < 5 else "使用环境",
                             "Laboratory environment" if n < 5 else "Operational environment"),
            "criteria": [{"id": f"CR-{n}-{j}", "text": t(f"已形成{zh}的文件化证据。",
                                                           f"Documented evidence that {en}."),
                          "mandatory": j == 1, "evidence": ev} for j in (1, 2)],
        }

    def message(self, data: dict[str, Any]) -> None:
        r = self.r
        self.msg += 1
        self.can += 1
        m = self.msg
        sender, receiver = r.sample([n[0] for n in NODES], 2)
        nsig = r.randint(4, 8)
        e2e = r.random() < 0.4
        signals = []
        for i in range(nsig):
            sig_id = f"SIG-{m:04d}-{i + 1}"
            qzh, qen = QUANTITIES[(m + i) % len(QUANTITIES)]
            if e2e and i == nsig - 2:
                sig = self._sig(sig_id, f"Cnt_{i}", "滚动计数器", "Rolling counter", i, 4, 0, 14)
            elif e2e and i == nsig - 1:
                sig = self._sig(sig_id, f"Crc_{i}", "校验和", "Checksum", i, 8, 0, 255,
                                invalid=False)
            elif i == 0:
                sig = self._sig(sig_id, f"State_{i}", "工作状态", "Operating state", i, 4, 0, 4)
                sig["value_table"] = "VT-STATE"
            else:
                sig = self._sig(sig_id, f"Value_{i}", qzh, cap(qen), i, 8, 0, 120,
                                factor=0.5, unit=UNITS[(m + i) % len(UNITS)])
            signals.append(sig)
        msg: dict[str, Any] = {
            "id": f"MSG-{m:04d}", "name": f"Msg_{m:04d}", "can_id": f"0x{self.can:03X}",
            "dlc": 8, "sender": sender, "receivers": [receiver],
            "transmission": "cyclic", "cycle_ms": r.choice([10, 20, 50, 100]),
        }
        msg["timeout_ms"] = msg["cycle_ms"] * 3
        if e2e:
            msg["e2e"] = {"profile": "P01", "data_id": self.can,
                          "counter": signals[-2]["id"], "checksum": signals[-1]["id"]}
        msg["signals"] = signals
        data["messages"] = [msg]
        data["text"]["zh"] += f"报文 :ref:`{msg['id']}` 的信号定义如下。"
        data["text"]["en"] += f" The signals of :ref:`{msg['id']}` are defined below."
        self.prov += 1
        data["provisions"] = [{
            "id": f"REQ-{self.prov:05d}", "kind": "requirement", "verification": ["test"],
            "text": t(f"{sender}应以{msg['cycle_ms']} ms的周期发送 :ref:`{msg['id']}` 。",
                      f"The {sender} shall transmit :ref:`{msg['id']}` with a cycle time of"
                      f" {msg['cycle_ms']} ms.")}]

    @staticmethod
    def _sig(sid: str, name: str, zh: str, en: str, slot: int, length: int, lo: int, hi: int,
             *, factor: float = 1, unit: str | None = None, invalid: bool = True
             ) -> dict[str, Any]:
        sig: dict[str, Any] = {
            "id": sid, "name": name, "description": t(zh, en), "start_bit": slot * 8,
            "length": length, "byte_order": "little_endian", "signed": False, "factor": factor,
            "offset": 0, "min": lo, "max": hi, "initial": lo,
        }
        if unit:
            sig["unit"] = unit
        if invalid:
            sig["invalid_raw"] = 2**length - 1
        return sig

    def cases(self, data: dict[str, Any]) -> None:
        r = self.r
        batch, self.pending = self.pending[:3], self.pending[3:]
        self.case += 1
        verifies = list(batch)
        data.setdefault("cases", [])
        peer = next((q for q in self.peers if q.kind == "interface"), None)
        if peer is not None and r.random() < 0.1:
            verifies.append(f"{peer.sid}:REQ-00001")
        env = r.choice(ENVIRONMENTS)[0].upper().replace("-", "")
        data["cases"].append({
            "id": f"TC-{self.case:05d}",
            "title": t("功能与时序验证", "Verification of behaviour and timing"),
            "objective": t("验证 " + "、".join(f":ref:`{v}`" for v in batch) + " 的满足情况。",
                           "To verify conformity with " + ", ".join(f":ref:`{v}`" for v in batch)
                           + "."),
            "verifies": verifies, "method": "test", "level": r.choice(["system", "vehicle"]),
            "environment": f"ENV-{env}",
            "preconditions": [t("被验证对象处于量产技术状态。", "The item under verification is in"
                                " production condition.")],
            "steps": [{"action": t(f"{czh}，记录总线报文。",
                                   f"{cap(cen)}, record the bus traffic."),
                       "expected": t("被验证对象按规定时序动作。",
                                     "The item under verification acts with the specified"
                                     " timing.")}
                      for czh, cen in r.sample(CONDITIONS, 2)],
            "pass_criteria": [t("所有步骤的预期结果均出现。",
                                "Every expected result is observed.")],
        })


# ---------------------------------------------------------------------------------------------


def dump(data: Any) -> str:
    return str(yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=4096,
                         default_flow_style=False))


def write(out: Path, files: dict[str, Any]) -> None:
    for rel, data in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(data), encoding="utf-8")


def _git(out: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org",
           "GIT_AUTHOR_DATE": "2026-11-24T12:00:00+0000",
           "GIT_COMMITTER_DATE": "2026-11-24T12:00:00+0000"}
    return subprocess.run(["git", *args], cwd=out, env=env, check=True, capture_output=True,
                          text=True).stdout


def _texts(node: Any) -> Iterator[dict[str, Any]]:
    """Every leaf clause (a mapping with a title, a bilingual text and no subclauses)."""
    if isinstance(node, dict):
        if isinstance(node.get("text"), dict) and "title" in node and "clauses" not in node:
            yield node
        for v in node.values():
            yield from _texts(v)
    elif isinstance(node, list):
        for v in node:
            yield from _texts(v)


def history(out: Path, gen: Generator, commits: int, seed: int) -> None:
    """``commits`` commits: a baseline, small edits, and a second baseline."""
    r = random.Random(seed + 1)
    _git(out, "init", "-q", "-b", "main")
    (out / ".gitignore").write_text(".stdkit-cache/\nsite/\n", encoding="utf-8")
    _git(out, "add", "-A")
    _git(out, "commit", "-q", "-m", "baseline")
    for p in gen.plans:
        _git(out, "tag", "-a", f"{p.sid}/working-draft.1", "-m", f"{p.sid} working-draft 1")
    parts = [k for k in gen.files if k.startswith("standards/") and "/c" in k]
    serial = 0
    for n in range(1, commits - 1):
        rel = r.choice(parts)
        data = gen.files[rel]
        clauses = list(_texts(data))
        target = r.choice(clauses)
        what = r.random()
        if what >= 0.8 and data.get("under_test"):
            what = 0.0  # a new provision under test would need a case: change a text instead
        if what < 0.6:
            zh, en = r.choice(EXPLAIN)
            old = target["text"]
            target["text"] = {"zh": old["zh"] + zh, "en": old["en"] + " " + en}
        elif what < 0.8:
            zh, en = r.choice(EXPLAIN)
            target.setdefault("notes", []).append(t(zh, en))
        else:
            serial += 1
            provs = target.setdefault("provisions", [])
            provs.append({"id": f"REQ-H{serial:04d}", "kind": "requirement",
                          "verification": ["analysis"],
                          "text": gen.provision_text("requirement", [])})
        (out / rel).write_text(dump(data), encoding="utf-8")
        _git(out, "commit", "-q", "-am", f"edit {n}: {rel}")
    for p in gen.plans:
        meta = gen.files[f"standards/{p.sid}/standard.yaml"]
        meta["revision"] = 2
        meta["date"] = "2026-12-01"
        (out / f"standards/{p.sid}/standard.yaml").write_text(dump(meta), encoding="utf-8")
    _git(out, "commit", "-q", "-am", "revision 2")
    for p in gen.plans:
        _git(out, "tag", "-a", f"{p.sid}/working-draft.2", "-m", f"{p.sid} working-draft 2")


def generate(out: Path, *, standards: int = 20, clauses: int = 10_000, seed: int = 1,
             commits: int = 0) -> Generator:
    """Write a repository of ``standards`` standards and ``clauses`` clauses to ``out``."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    gen = Generator(standards, clauses, seed)
    write(out, gen.generate())
    if commits:
        history(out, gen, commits, seed)
    return gen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--standards", type=int, default=20)
    ap.add_argument("--clauses", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--history", type=int, default=0, metavar="COMMITS",
                    help="make a git history of this many commits (two baselines per standard)")
    args = ap.parse_args(argv)
    gen = generate(args.out, standards=args.standards, clauses=args.clauses, seed=args.seed,
                   commits=args.history)
    files = sum(len(p.parts) + 1 for p in gen.plans) + 1
    size = sum(f.stat().st_size for f in args.out.rglob("*.yaml"))
    print(f"{args.out}: {len(gen.plans)} standards, {args.clauses} clauses, {files} files,"
          f" {size / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
