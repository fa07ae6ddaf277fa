"""In-memory data for one Expensely instance: expenses, teammates, settings, sessions.

Everything is seeded deterministically (fixed dates, fixed amounts) so pages and screenshots
are reproducible. Amounts are kept as Decimal; the JSON API renders them as "128.50".
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

CATEGORIES = ("Meals", "Travel", "Office supplies", "Software")
ROLES = ("Viewer", "Editor", "Admin")


@dataclass
class Expense:
    id: int
    description: str
    category: str
    date: date
    amount: Decimal
    status: str = "Pending"
    billable: bool = False
    notes: str = ""
    submitted_by: str = "alex.morgan@example.com"
    created_here: bool = False  # True when submitted through the form of this instance

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "description": self.description,
            "category": self.category,
            "date": self.date.isoformat(),
            "amount": f"{self.amount:.2f}",
            "currency": "USD",
            "status": self.status,
            "billable": self.billable,
            "notes": self.notes,
            "submitted_by": self.submitted_by,
        }


@dataclass
class Teammate:
    name: str
    email: str
    role: str
    status: str = "Active"

    def to_json(self) -> dict:
        return {"name": self.name, "email": self.email, "role": self.role, "status": self.status}


def _seed_expenses() -> list[Expense]:
    rows = [
        ("Client lunch with Northwind", "Meals", date(2026, 10, 2), "86.40", "Reimbursed", True),
        ("Flight to Chicago sales summit", "Travel", date(2026, 10, 9), "412.00", "Approved", False),
        ("Ergonomic keyboard", "Office supplies", date(2026, 10, 15), "129.99", "Approved", False),
        ("Figma annual licence", "Software", date(2026, 10, 21), "180.00", "Pending", False),
        ("Hotel in Chicago, 2 nights", "Travel", date(2026, 10, 23), "356.80", "Pending", True),
        ("Q4 kickoff team lunch", "Meals", date(2026, 11, 3), "214.25", "Rejected", False),
    ]
    return [
        Expense(i, d, c, dt, Decimal(a), status=s, billable=b)
        for i, (d, c, dt, a, s, b) in enumerate(rows, 1)
    ]


def _seed_team() -> list[Teammate]:
    return [
        Teammate("Alex Morgan", "alex.morgan@example.com", "Admin"),
        Teammate("Priya Shah", "priya.shah@example.com", "Editor"),
        Teammate("Marcus Chen", "marcus.chen@example.com", "Viewer"),
        Teammate("Sofia Alvarez", "sofia.alvarez@example.com", "Editor"),
        Teammate("Daniel Okafor", "daniel.okafor@example.com", "Viewer"),
    ]


def name_from_email(email: str) -> str:
    """'jordan.lee@example.com' -> 'Jordan Lee' (a friendly default display name)."""
    local = email.split("@", 1)[0]
    parts = [p for p in local.replace("_", ".").replace("-", ".").split(".") if p]
    return " ".join(p.capitalize() for p in parts) or email


@dataclass
class Store:
    expenses: list[Expense] = field(default_factory=_seed_expenses)
    team: list[Teammate] = field(default_factory=_seed_team)
    settings: dict[str, dict] = field(default_factory=dict)  # by user email
    sessions: dict[str, str] = field(default_factory=dict)  # session id -> email

    def reset(self) -> None:
        """Back to the seeded expenses and team (sessions and settings stay): a workflow's setup hook."""
        self.expenses, self.team = _seed_expenses(), _seed_team()

    # --- sessions -------------------------------------------------------------------
    def open_session(self, email: str) -> str:
        sid = secrets.token_urlsafe(24)
        self.sessions[sid] = email
        return sid

    # --- expenses -------------------------------------------------------------------
    def get_expense(self, expense_id: int) -> Expense | None:
        return next((e for e in self.expenses if e.id == expense_id), None)

    def expenses_newest_first(self) -> list[Expense]:
        return sorted(self.expenses, key=lambda e: (e.date, e.id), reverse=True)

    def add_expense(self, **values) -> Expense:
        exp = Expense(id=max((e.id for e in self.expenses), default=0) + 1, created_here=True, **values)
        self.expenses.append(exp)
        return exp

    def totals(self) -> dict:
        def total(status: str) -> tuple[Decimal, int]:
            rows = [e for e in self.expenses if e.status == status]
            return sum((e.amount for e in rows), Decimal("0")), len(rows)

        return {s: total(s) for s in ("Pending", "Approved", "Reimbursed")}

    # --- team -----------------------------------------------------------------------
    def find_teammate(self, email: str) -> Teammate | None:
        return next((t for t in self.team if t.email.lower() == email.lower()), None)

    def invite(self, email: str, role: str) -> Teammate:
        mate = Teammate(name_from_email(email), email, role, status="Invited")
        self.team.append(mate)
        return mate

    # --- settings -------------------------------------------------------------------
    def settings_for(self, email: str) -> dict:
        return self.settings.setdefault(email, {"display_name": name_from_email(email), "weekly_summary": True})


def parse_expense_form(form: dict) -> tuple[dict, dict[str, str]]:
    """Validate the new-expense form. Returns (clean values, {field: error message})."""
    errors: dict[str, str] = {}
    description = (form.get("description") or "").strip()
    if not description:
        errors["description"] = "Description is required."
    amount = None
    raw_amount = (form.get("amount") or "").strip()
    if not raw_amount:
        errors["amount"] = "Amount is required."
    else:
        try:
            amount = Decimal(raw_amount).quantize(Decimal("0.01"))
            if amount <= 0:
                errors["amount"] = "Amount must be greater than zero."
        except (InvalidOperation, ValueError):
            errors["amount"] = "Amount must be a number, like 42.50."
    category = form.get("category") or ""
    if category not in CATEGORIES:
        errors["category"] = "Category must be one of: " + ", ".join(CATEGORIES) + "."
    when = None
    raw_date = (form.get("date") or "").strip()
    if not raw_date:
        errors["date"] = "Date is required."
    else:
        try:
            when = date.fromisoformat(raw_date)
        except ValueError:
            errors["date"] = "Date must look like 2026-11-14."
    values = {
        "description": description,
        "amount": amount,
        "category": category,
        "date": when,
        "billable": bool(form.get("billable")),
        "notes": (form.get("notes") or "").strip(),
    }
    return values, errors
