"""`{% load safety %}`: `{{ url|http_only }}` prints an http(s) URL from outside, or nothing."""

from django import template

from tenants.safety import http_url

register = template.Library()


@register.filter
def http_only(value: object) -> str:
    return http_url(value)
