"""Training happens in a child process, so scikit-learn never enters a worker (bench/triage.py
measured +112 MB in a worker that trained the shipped model itself on a fresh clone, against
+23 MB when it only loads it): a worker that finds no model file has a child train it, and the
nightly retrain of an organisation runs in a child against the same database. Where no child
can run, the worker does the work itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from tenants.models import Membership
from tests.factories_inbox import ConversationFactory, MessageFactory
from tests.factories_marketplaces import StoreFactory
from triage import child, engine, tasks
from triage.labels import LabelSource
from triage.models import ModelStatus, TenantModel
from triage.services import ticket_intent_correct
from triage.tenant_models import models_for

PROBE = """
import json, sys
import django
django.setup()
from triage.engine import label_texts
(label,) = label_texts(["Where is my parcel? It still has not arrived"])
print(json.dumps({"intent": label.intent, "source": label.source,
                  "sklearn": any(name.split(".")[0] == "sklearn" for name in sys.modules)}))
"""


def test_a_missing_model_is_trained_in_a_child_and_the_worker_stays_small(tmp_path):
    model = tmp_path / "triage" / "model.pkl"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TRIAGE_MODEL_PATH": str(model),
        "TRIAGE_TRAIN_MISSING_MODEL": "true",
    }
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {"intent": "order_status", "source": LabelSource.MODEL, "sklearn": False}
    assert model.exists()


def test_without_a_child_the_worker_trains_the_model_itself(settings, tmp_path, caplog):
    settings.TRIAGE_MODEL_PATH = str(tmp_path / "model.pkl")
    settings.TRIAGE_TRAIN_MISSING_MODEL = True
    settings.BASE_DIR = tmp_path / "installed-without-manage-py"
    engine.shipped_model_forget()
    try:
        (label,) = engine.label_texts(["Where is my parcel? It still has not arrived"])
    finally:
        engine.shipped_model_forget()
    assert (label.intent, label.source) == ("order_status", LabelSource.MODEL)
    assert (tmp_path / "model.pkl").exists()


def corrected_ticket(tenant, agent, text: str, intent: str) -> None:
    ticket = ConversationFactory(store=StoreFactory(tenant=tenant), tenant=tenant)
    MessageFactory(conversation=ticket, text=text)
    ticket_intent_correct(
        conversation=ticket,
        membership=Membership.objects.get(user=agent, tenant=tenant),
        intent=intent,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_nightly_retrain_runs_in_a_child_on_the_same_database(
    shipped, tenant, agent, other_tenant, monkeypatch
):
    odd = "the llama thing"
    corrected_ticket(tenant, agent, odd, "payment_issue")
    children = []
    start = subprocess.run

    def spy(command, **kwargs):
        children.append(command)
        return start(command, **kwargs)

    monkeypatch.setattr(child.subprocess, "run", spy)
    assert tasks.retrain_tenant(tenant.pk) == 1
    assert [command[2:] for command in children] == [["triage_retrain", "--tenant", str(tenant.pk)]]
    row = TenantModel.objects.get(tenant=tenant)
    assert (row.version, row.status, row.corrections) == (1, ModelStatus.ACTIVE, 1)
    assert models_for([tenant.pk])[tenant.pk].classify([odd])[0].intent == "payment_issue"
    # Nothing to learn for the other organisation: no model, in the child as here.
    assert tasks.retrain_tenant(other_tenant.pk) is None
    assert not TenantModel.objects.filter(tenant=other_tenant).exists()


def test_without_a_child_the_retrain_runs_in_the_worker(shipped, tenant, agent, settings):
    corrected_ticket(tenant, agent, "the llama thing", "payment_issue")
    settings.BASE_DIR = settings.BASE_DIR / "no-such-checkout"
    assert tasks.retrain_tenant(tenant.pk) == 1
    assert TenantModel.objects.get(tenant=tenant).status == ModelStatus.ACTIVE

